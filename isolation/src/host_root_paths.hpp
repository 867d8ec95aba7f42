// The host pieces a code function's root is made of: the native backend binds them in
// ember-sandbox-init (init/rootfs.cpp), the OCI backend lists them as mounts in config.json.
#pragma once

namespace ember::isolation {

// Top-level directories next to /usr. Merged-/usr hosts (Debian 12) have them as symlinks
// into usr/, which a root copies as links; otherwise they are read-only binds.
inline constexpr const char* kHostSystemDirs[] = {"/bin",   "/sbin",  "/lib",
                                                  "/lib32", "/lib64", "/libx32"};

// What a runtime reads from /etc: name resolution, TLS roots, the dynamic loader's cache, time
// zone. Read-only binds of files; absent ones are skipped. /etc/ssl/private stays out.
inline constexpr const char* kHostEtcFiles[] = {
    "/etc/resolv.conf", "/etc/hosts",      "/etc/nsswitch.conf",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime",
    "/etc/mime.types",  "/etc/os-release", "/etc/ssl/openssl.cnf"};
inline constexpr const char* kHostEtcDirs[] = {
    "/etc/ssl/certs", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/ca-certificates", "/etc/pki"};

}  // namespace ember::isolation
