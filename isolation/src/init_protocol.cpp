#include "init_protocol.hpp"

#include <charconv>
#include <cstring>

namespace ember::isolation::init {
namespace {

enum Tag : unsigned char {
  kArgv = 1,
  kEnv,
  kWorkingDir,
  kRoot,
  kCodeDir,
  kRuntimeDir,
  kOptDir,
  kTmpMb,
  kUid,
  kGid,
  kHostname,
  kSeccomp,
  kAdopt,
  kImageRoot,
  kMount,
  kGroup,
  kReady = 32,
  kFailed,
  kExited,
  kPrepared,
};

// Record: tag byte, 4-byte little-endian length, payload.
void put(std::string& out, Tag tag, std::string_view payload) {
  out.push_back(static_cast<char>(tag));
  const auto size = static_cast<std::uint32_t>(payload.size());
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(size >> shift));
  out.append(payload);
}

void put_number(std::string& out, Tag tag, std::int64_t value) {
  put(out, tag, std::to_string(value));
}

struct Record {
  Tag tag;
  std::string_view payload;
};

// Splits a message into records; nullopt when it is truncated.
std::optional<std::vector<Record>> records(std::string_view message) {
  std::vector<Record> out;
  while (!message.empty()) {
    if (message.size() < 5) return std::nullopt;
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i) {
      size |= static_cast<std::uint32_t>(
                  static_cast<unsigned char>(message[1 + static_cast<std::size_t>(i)]))
              << (8 * i);
    }
    if (message.size() - 5 < size) return std::nullopt;
    out.push_back({static_cast<Tag>(message[0]), message.substr(5, size)});
    message.remove_prefix(5 + size);
  }
  return out;
}

template <class T>
bool parse_number(std::string_view text, T& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

// "a b c" -> numbers
template <class T>
bool parse_numbers(std::string_view text, std::initializer_list<T*> values) {
  for (T* value : values) {
    const auto end = text.find(' ');
    if (!parse_number(text.substr(0, end), *value)) return false;
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return true;
}

}  // namespace

std::string encode(const InitConfig& config) {
  std::string out;
  put(out, kRoot, config.root);
  put(out, kCodeDir, config.code_dir);
  put(out, kRuntimeDir, config.runtime_dir);
  for (const auto& layer : config.opt_layers) put(out, kOptDir, layer);
  if (!config.image_root.empty()) put(out, kImageRoot, config.image_root);
  // "r" or "w", the source, a NUL, the target: paths hold no NUL.
  for (const auto& mount : config.mounts) {
    put(out, kMount, (mount.read_only ? "r" : "w") + mount.source + '\0' + mount.target);
  }
  put_number(out, kTmpMb, config.tmp_mb);
  put_number(out, kUid, config.uid);
  put_number(out, kGid, config.gid);
  put_number(out, kGroup, config.group);
  put(out, kHostname, config.hostname);
  if (config.adopt) put(out, kAdopt, "1");
  put(out, kSeccomp,
      std::string_view(reinterpret_cast<const char*>(config.seccomp.data()),
                       config.seccomp.size() * sizeof(sock_filter)));
  return out;
}

std::optional<InitConfig> decode_config(std::string_view message) {
  auto parts = records(message);
  if (!parts) return std::nullopt;
  InitConfig config;
  for (const auto& [tag, payload] : *parts) {
    bool ok = true;
    switch (tag) {
      case kRoot:
        config.root = payload;
        break;
      case kCodeDir:
        config.code_dir = payload;
        break;
      case kRuntimeDir:
        config.runtime_dir = payload;
        break;
      case kOptDir:
        config.opt_layers.emplace_back(payload);
        break;
      case kImageRoot:
        config.image_root = payload;
        break;
      case kMount: {
        const auto nul = payload.find('\0');
        if (payload.empty() || nul == std::string_view::npos) return std::nullopt;
        config.mounts.push_back({std::string(payload.substr(1, nul - 1)),
                                 std::string(payload.substr(nul + 1)), payload.front() == 'r'});
        break;
      }
      case kTmpMb:
        ok = parse_number(payload, config.tmp_mb);
        break;
      case kUid:
        ok = parse_number(payload, config.uid);
        break;
      case kGid:
        ok = parse_number(payload, config.gid);
        break;
      case kGroup:
        ok = parse_number(payload, config.group);
        break;
      case kHostname:
        config.hostname = payload;
        break;
      case kAdopt:
        config.adopt = payload == "1";
        break;
      case kSeccomp:
        if (payload.size() % sizeof(sock_filter) != 0) return std::nullopt;
        config.seccomp.resize(payload.size() / sizeof(sock_filter));
        // An empty filter leaves data() null, and memcpy's arguments must never be.
        if (!payload.empty()) std::memcpy(config.seccomp.data(), payload.data(), payload.size());
        break;
      default:
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
  }
  if (config.root.empty()) return std::nullopt;
  return config;
}

std::string encode(const Launch& launch) {
  std::string out;
  for (const auto& arg : launch.argv) put(out, kArgv, arg);
  for (const auto& var : launch.env) put(out, kEnv, var);
  put(out, kWorkingDir, launch.working_dir);
  return out;
}

std::optional<Launch> decode_launch(std::string_view message) {
  auto parts = records(message);
  if (!parts) return std::nullopt;
  Launch launch;
  for (const auto& [tag, payload] : *parts) {
    switch (tag) {
      case kArgv:
        launch.argv.emplace_back(payload);
        break;
      case kEnv:
        launch.env.emplace_back(payload);
        break;
      case kWorkingDir:
        launch.working_dir = payload;
        break;
      default:
        return std::nullopt;
    }
  }
  if (launch.argv.empty()) return std::nullopt;
  return launch;
}

std::string encode(const Prepared& prepared) {
  std::string out;
  put_number(out, kPrepared, prepared.mounts_done_ns);
  return out;
}

std::string encode(const Ready& ready) {
  std::string out;
  put(out, kReady,
      std::to_string(ready.mounts_done_ns) + " " + std::to_string(ready.seccomp_loaded_ns) + " " +
          std::to_string(ready.exec_done_ns));
  return out;
}

std::string encode(const StepFailed& failed) {
  std::string out;
  put(out, kFailed, std::to_string(failed.err) + "\n" + failed.step + "\n" + failed.call);
  return out;
}

std::string encode(const WorkerExited& exited) {
  std::string out;
  put(out, kExited, std::string(exited.signaled ? "1 " : "0 ") + std::to_string(exited.value));
  return out;
}

std::optional<Reply> decode_reply(std::string_view message) {
  auto parts = records(message);
  if (!parts || parts->size() != 1) return std::nullopt;
  const auto [tag, payload] = parts->front();
  Reply reply;
  if (tag == kPrepared) {
    Prepared prepared;
    if (!parse_number(payload, prepared.mounts_done_ns)) return std::nullopt;
    reply.prepared = prepared;
  } else if (tag == kReady) {
    Ready ready;
    if (!parse_numbers<std::int64_t>(
            payload, {&ready.mounts_done_ns, &ready.seccomp_loaded_ns, &ready.exec_done_ns})) {
      return std::nullopt;
    }
    reply.ready = ready;
  } else if (tag == kFailed) {
    const auto first = payload.find('\n');
    const auto second = payload.find('\n', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) return std::nullopt;
    StepFailed failed;
    if (!parse_number(payload.substr(0, first), failed.err)) return std::nullopt;
    failed.step = payload.substr(first + 1, second - first - 1);
    failed.call = payload.substr(second + 1);
    reply.failed = failed;
  } else if (tag == kExited) {
    int signaled = 0;
    WorkerExited exited;
    if (!parse_numbers<int>(payload, {&signaled, &exited.value})) return std::nullopt;
    exited.signaled = signaled != 0;
    reply.exited = exited;
  } else {
    return std::nullopt;
  }
  return reply;
}

}  // namespace ember::isolation::init
