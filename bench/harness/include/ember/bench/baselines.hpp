// The floors every ember figure is divided by, measured in the same run on the same machine:
// how fast the same bootstrap reaches its first `next` without ember (plain posix_spawn, or
// `runc run`), how many such starts a second allow, what the same bootstrap costs in memory
// as a plain process, and what one HTTP round trip on loopback costs with the same client.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ember/bench/http_client.hpp"

namespace ember::bench {

class Progress;

// How to start a function's runtime by hand, as ember would (argv, extra environment, cwd).
struct BootstrapCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // AWS_LAMBDA_RUNTIME_API is added per run
  std::filesystem::path cwd;
};

// Microseconds from posix_spawn to the runtime's first `GET .../next` request head arriving
// at a listener of the bench's own (which then closes the connection, so the runtime ends).
// One after the other; one tick of `progress` each. Throws std::runtime_error when the
// runtime never calls.
std::vector<double> spawn_to_next_us(const BootstrapCommand& command, std::size_t n,
                                     Progress* progress = nullptr);

struct SpawnRate {
  std::vector<double> us;  // spawn_to_next_us of every start
  double wall_s = 0;       // first spawn to the last runtime stopped
};

// `n` starts as spawn_to_next_us, from `concurrency` threads at once (each its own
// listener): the floor for sandboxes created per second.
SpawnRate spawn_rate(const BootstrapCommand& command, std::size_t n, std::size_t concurrency,
                     Progress* progress);

// Starts `n` copies of the runtime, each pointed at a listener of the bench's own that
// accepts and reads its first `next` but never answers, so every copy stays blocked in its
// first `next` as an idle warm worker would; calls `measure` with their pids while they
// wait, then kills and reaps them. The floor for memory per idle worker.
void with_parked_runtimes(const BootstrapCommand& command, std::size_t n,
                          const std::function<void(const std::vector<pid_t>&)>& measure,
                          Progress* progress);

// Same through `runc run` with a generated OCI bundle: the static `bootstrap` alone in a
// read-only rootfs, new pid/mount/ipc/uts namespaces, the host's network namespace (so it
// reaches the bench's listener). Needs root. Throws std::runtime_error on failure.
std::vector<double> runc_to_next_us(const std::filesystem::path& runc,
                                    const std::filesystem::path& static_bootstrap, std::size_t n);

// Microseconds per POST of `payload` to a bench-internal minimal HTTP/1.1 server on
// 127.0.0.1 that answers {"ok":true} at once, over one keep-alive connection.
std::vector<double> loopback_rtt_us(ClientKind client, const std::string& payload, std::size_t n);

}  // namespace ember::bench
