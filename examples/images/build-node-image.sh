#!/bin/bash
# Builds ember's realistic Lambda container image, without Docker and without a registry:
# a Debian 12 root made from Debian's packages, Debian's Node.js, the aws-lambda-ric npm
# package (the runtime interface client, with its native addon built against that Node.js)
# and the handler in node/ at /var/task, packed as an OCI image layout with umoci. The
# image config is the one AWS documents for Node.js on a non-AWS base image:
#   ENTRYPOINT ["/usr/bin/npx", "aws-lambda-ric"]   CMD ["index.handler"]   WORKDIR /var/task
#
# Usage: build-node-image.sh OUT_DIR [TAG]      (TAG defaults to "latest")
#   Writes the OCI layout to OUT_DIR; ember uses it as `image: oci:OUT_DIR:TAG`. When OUT_DIR
#   already holds TAG, it does nothing: the layout appears in one rename, only when complete.
# Environment:
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR  override the mirrors read from /etc/apt/sources.list*
#   HOST_CA_BUNDLE  CA bundle the build trusts for the npm registry (default: the host's own,
#                   so a TLS-intercepting proxy trusted by the host is trusted here too)
# Needs root (debootstrap, chroot) and network access to the Debian mirror and npm registry.
# See README.md next to this script.
set -euo pipefail

# Debian packages this script needs on the host; installed with apt-get when missing.
readonly HOST_PACKAGES=(
  debootstrap             # the Debian root
  debian-archive-keyring  # debootstrap's check of the mirror's signatures
  umoci                   # OCI layout: init, new, unpack, repack, config
  skopeo                  # final check that the layout is readable by the OCI tooling
  curl                    # downloads npm from the npm registry
  ca-certificates         # ... over https
  util-linux              # unshare (every mount of the build in its own namespace), flock
  mount                   # mount, inside those namespaces
)
# Debian packages of the image itself.
readonly IMAGE_PACKAGES=(nodejs)
# Debian packages that build aws-lambda-ric's native addon (its bundled curl and
# aws-lambda-cpp, then node-gyp); only in the throw-away builder root, never in the image.
readonly BUILD_PACKAGES=(g++ make cmake autoconf automake libtool python3 libnode-dev)
# Debian 12 has no npm without ~370 node-* packages, so npm (which provides npx, the
# documented entrypoint) comes from the npm registry as one self-contained tarball, pinned
# by its registry integrity (hex of the sha512). npm 10 supports Debian 12's Node.js 18.
readonly NPM_VERSION=10.9.9
readonly NPM_SHA512=d60fba8cb42f688b81e33c2f1cbef2ad7b977166700ec0ad057f1b6d60ea6ef2524abf673e20c35931cd8305d1dbb8887134d6eefdc0e7b8435bd458bf65b862
readonly SUITE=bookworm

die() {
  echo "build-node-image.sh: $*" >&2
  exit 1
}
# Prefixed with the seconds since the start, which shows where a build spends its time.
log() { echo "build-node-image.sh: [${SECONDS} s] $*" >&2; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: build-node-image.sh OUT_DIR [TAG]"
out_dir=$(realpath -m -- "$1")
tag=${2:-latest}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir handler_dir=$script_dir/node

install_missing_host_packages() {
  local missing=() pkg
  for pkg in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing host packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

image_is_built() {
  [[ -f $out_dir/index.json ]] && umoci stat --image "$out_dir:$tag" >/dev/null 2>&1
}
# Cached: the layout is renamed into place only when complete, so its presence with the tag
# means a finished image.
if image_is_built; then
  log "$out_dir:$tag exists; nothing to do (remove $out_dir to rebuild)"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot need it)"
install_missing_host_packages
mkdir -p -- "$(dirname -- "$out_dir")"
# One build per OUT_DIR at a time; a second caller waits, then finds the image built.
exec {lock_fd}>"$out_dir.lock"
flock "$lock_fd"
if image_is_built; then
  log "$out_dir:$tag was built meanwhile; nothing to do"
  exit 0
fi
[[ ! -e $out_dir ]] || die "$out_dir exists but does not hold a finished image with tag $tag; remove it or pick another OUT_DIR"
# Build directories of an interrupted run (we hold the lock, so none is in use).
for stale in "$out_dir".build.*; do
  [[ -d $stale ]] || continue
  if findmnt -rn -o TARGET | grep -q -F -- "$stale/"; then
    die "$stale is left from an interrupted build and something is mounted under it; unmount and remove it"
  fi
  log "removing $stale, left by an interrupted build"
  rm -rf -- "$stale"
done

# Prints the first URI in the apt sources (one-line and deb822 formats) that serves SUITE, so
# the build uses the mirror this machine is configured for (and can reach).
mirror_for_suite() {
  local suite=$1 file files=()
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] && files+=("$file")
  done
  ((${#files[@]})) || return 0
  awk -v suite="$suite" '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") {
        split(uris, u, " "); print u[1]; found = 1; exit
      }
      types = ""; uris = ""; suites = ""
    }
    FNR == 1 { flush() }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0; next }
    /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0; next }
    /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0; next }
    /^deb[ \t]/ {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; found = 1; exit }
    }
    END { if (!found) flush() }' "${files[@]}"
}

# Runs a command chrooted into ROOT with /proc and /dev mounted in a private mount namespace:
# the mounts vanish with the command, so a failed step never leaves one behind under the
# build directory (which is then removed with rm -rf).
in_root() {
  local root=$1
  shift
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private -- /bin/sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" &&
      exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

work=
cleanup() {
  [[ -n $work && -d $work ]] || return 0
  # Never rm -rf through a mount point (a bind of /dev would be fatal); the private mount
  # namespaces should make this impossible, this is the belt to those braces.
  if findmnt -rn -o TARGET | grep -q -F -- "$work/"; then
    log "leaving $work in place: something is still mounted under it"
    return 0
  fi
  rm -rf -- "$work"
}
trap cleanup EXIT

debian_mirror=${DEBIAN_MIRROR:-$(mirror_for_suite "$SUITE")}
debian_mirror=${debian_mirror:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-$(mirror_for_suite "$SUITE-security")}
security_mirror=${security_mirror:-http://deb.debian.org/debian-security}
host_ca_bundle=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[[ -r $host_ca_bundle ]] || die "CA bundle $host_ca_bundle is not readable (set HOST_CA_BUNDLE)"
arch=$(dpkg --print-architecture)

# Next to OUT_DIR, so the final step is a rename on one file system.
work=$(mktemp -d -- "$out_dir.build.XXXXXX")
root=$work/root
builder=$work/builder

log "debootstrap --variant=minbase $SUITE from $debian_mirror ($arch)"
unshare --mount --propagation private -- \
  debootstrap --variant=minbase --arch="$arch" "$SUITE" "$root" "$debian_mirror" \
  >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  die "debootstrap failed (log above)"
}

cat >"$root/etc/apt/sources.list" <<EOF
deb $debian_mirror $SUITE main
deb $debian_mirror $SUITE-updates main
deb $security_mirror $SUITE-security main
EOF
# No documentation, manual pages or translations in the image (copyright files stay), for
# these packages and for anything installed on top of the image later.
cat >"$root/etc/dpkg/dpkg.cfg.d/90-ember-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
cp -- /etc/resolv.conf "$root/etc/resolv.conf"

log "installing ${IMAGE_PACKAGES[*]} (with $SUITE-updates and $SUITE-security)"
if ! {
  in_root "$root" apt-get update -q &&
    in_root "$root" apt-get install -y -q --no-install-recommends "${IMAGE_PACKAGES[@]}"
} >"$work/apt.log" 2>&1; then
  tail -n 30 "$work/apt.log" >&2
  die "apt-get in the image root failed (log above)"
fi

log "installing npm $NPM_VERSION (for npx) from the npm registry"
curl -fsSL --retry 3 -o "$work/npm.tgz" "https://registry.npmjs.org/npm/-/npm-$NPM_VERSION.tgz" ||
  die "downloading npm $NPM_VERSION from https://registry.npmjs.org failed"
echo "$NPM_SHA512  $work/npm.tgz" | sha512sum -c --quiet - ||
  die "npm-$NPM_VERSION.tgz does not match its pinned sha512"
mkdir -p "$root/usr/lib/node_modules/npm"
tar -xzf "$work/npm.tgz" -C "$root/usr/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"

# The builder is a copy of the image root plus compilers: the addon is built by the same
# Node.js (ABI and headers from libnode-dev) and against the same glibc as in the image,
# and no build tool reaches the image.
log "building aws-lambda-ric in a builder root (${BUILD_PACKAGES[*]})"
cp -a -- "$root" "$builder"
mkdir -p "$builder/etc/ssl"
cp -- "$host_ca_bundle" "$builder/etc/ssl/host-ca-bundle.crt"
mkdir -p "$builder/var/task"
cp -- "$handler_dir/index.js" "$handler_dir/package.json" "$handler_dir/package-lock.json" \
  "$builder/var/task/"
# nodedir: headers from libnode-dev, as node-gyp cannot download them here.
# --foreground-scripts: the native build's output lands in the log.
if ! {
  in_root "$builder" apt-get install -y -q --no-install-recommends "${BUILD_PACKAGES[@]}" &&
    in_root "$builder" /bin/sh -c 'cd /var/task &&
      npm_config_cafile=/etc/ssl/host-ca-bundle.crt npm_config_nodedir=/usr \
        npm ci --omit=dev --no-audit --no-fund --no-update-notifier --foreground-scripts'
} >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  die "building aws-lambda-ric failed (log above)"
fi
ric=$builder/var/task/node_modules/aws-lambda-ric
[[ -f $ric/dist/rapid-client.node ]] || die "aws-lambda-ric built no dist/rapid-client.node"
# aws-lambda-ric's postinstall means to delete its source trees, but its glob ([^gz]) is
# bash-only and Debian's /bin/sh keeps ~150 MB of them; only dist/ is used at run time.
find "$ric/deps" -mindepth 1 -maxdepth 1 -type d ! -name patches -exec rm -rf {} +
rm -rf -- "$ric/build"
cp -a -- "$builder/var/task" "$root/var/task"
chmod -R a+rX "$root/var/task"

log "trimming the root"
in_root "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
  "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/root/.npm \
  "$root/etc/resolv.conf" "$root/etc/hostname"
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
  "$root"/usr/share/lintian/*

log "packing the OCI layout with umoci"
layout=$work/oci
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$work/bundle" >/dev/null
rm -rf -- "$work/bundle/rootfs"
mv -- "$root" "$work/bundle/rootfs"
umoci repack --image "$layout:$tag" \
  --history.created_by "examples/images/build-node-image.sh: debootstrap $SUITE minbase, nodejs, npm $NPM_VERSION, aws-lambda-ric" \
  "$work/bundle"
# NPM_CONFIG_CACHE: npx writes its cache and logs, and only /tmp is writable on Lambda (AWS's
# Dockerfile for non-AWS bases sets the same); no update check from inside a function.
# HOME: npx asks Node.js for the home directory, and the sandbox user (uid 993 on ember,
# sbx_user1051 on Lambda) has no entry in the image's /etc/passwd: without HOME it fails
# with "uv_os_homedir returned ENOENT" before the runtime starts. /tmp is the writable place.
umoci config --image "$layout:$tag" \
  --os linux --architecture "$arch" \
  --config.entrypoint /usr/bin/npx --config.entrypoint aws-lambda-ric \
  --config.cmd index.handler \
  --config.workingdir /var/task \
  --clear=config.env \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env LANG=C.UTF-8 \
  --config.env LAMBDA_TASK_ROOT=/var/task \
  --config.env NPM_CONFIG_CACHE=/tmp/.npm \
  --config.env NPM_CONFIG_UPDATE_NOTIFIER=false \
  --config.env HOME=/tmp \
  --history.created_by "examples/images/build-node-image.sh: ENTRYPOINT npx aws-lambda-ric, CMD index.handler"
umoci gc --layout "$layout"
skopeo inspect --config "oci:$layout:$tag" >/dev/null ||
  die "skopeo cannot read the finished layout $layout:$tag"

mv -T -- "$layout" "$out_dir"
log "built $out_dir:$tag; removing the build directory"
