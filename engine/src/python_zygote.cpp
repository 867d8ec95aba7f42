#include "python_zygote.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>

#include "ember/runtime_api/base64.hpp"

namespace ember::engine {
namespace {

namespace json = boost::json;
using isolation::Result;
using isolation::SysError;
using isolation::UniqueFd;

// One datagram within timeout, as text.
Result<std::string> receive(int fd, std::chrono::milliseconds timeout, const char* what) {
  pollfd pfd{fd, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0) return isolation::last_error(std::string("poll the Python zygote: ") + what);
  if (ready == 0) {
    return SysError{ETIMEDOUT, std::string("the Python zygote did not answer: ") + what, {}};
  }
  std::string buffer(4096, '\0');
  const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
  if (n < 0) return isolation::last_error(std::string("recv from the Python zygote: ") + what);
  if (n == 0) {
    return SysError{EPIPE, std::string("the Python zygote exited: ") + what,
                    "its messages are in ember's own log"};
  }
  buffer.resize(static_cast<std::size_t>(n));
  return buffer;
}

// Raises the calling thread from SCHED_IDLE to SCHED_OTHER for its lifetime.
class NormalSchedulingForThisThread {
 public:
  NormalSchedulingForThisThread() {
    if (::pthread_getschedparam(::pthread_self(), &policy_, &param_) != 0) return;
    if (policy_ != SCHED_IDLE) return;
    const sched_param normal{0};
    raised_ = ::pthread_setschedparam(::pthread_self(), SCHED_OTHER, &normal) == 0;
  }
  NormalSchedulingForThisThread(const NormalSchedulingForThisThread&) = delete;
  NormalSchedulingForThisThread& operator=(const NormalSchedulingForThisThread&) = delete;
  NormalSchedulingForThisThread(NormalSchedulingForThisThread&&) = delete;
  NormalSchedulingForThisThread& operator=(NormalSchedulingForThisThread&&) = delete;
  ~NormalSchedulingForThisThread() {
    if (raised_) (void)::pthread_setschedparam(::pthread_self(), policy_, &param_);
  }

 private:
  int policy_ = SCHED_OTHER;
  sched_param param_{};
  bool raised_ = false;
};

}  // namespace

Result<PythonZygote::Process> PythonZygote::launch(const Paths& paths,
                                                   std::chrono::milliseconds timeout) {
  if (paths.arm_library.empty()) {
    return SysError{EINVAL, "start the Python zygote", "no arming library (libember-arm.so) given"};
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    return isolation::last_error("socketpair for the Python zygote");
  }
  UniqueFd control(pair[0]);
  UniqueFd child_end(pair[1]);
  isolation::SpawnRequest request;
  request.argv = {paths.interpreter.string(),
                  "-s",
                  "-u",
                  "-B",
                  (paths.runtimes_dir / "python" / "zygote.py").string(),
                  paths.arm_library.string()};
  // Its workers start from this environment, not the engine's (their functions' comes with
  // the launch).
  request.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
  request.control_fd = child_end.get();  // fd 3, where zygote.py expects it
  // A restart may come from the SCHED_IDLE preparer thread; the workers inherit the policy.
  request.normal_scheduling = true;
  auto spawned = isolation::spawn_in_new_session(request);
  if (!spawned) return spawned.error();
  child_end.reset();
  Process process{std::move(*spawned), std::move(control)};
  auto hello = receive(process.control.get(), timeout, "start");
  if (!hello) return hello.error();
  if (*hello == R"({"ready": true})") return process;
  // {"error": "..."}: it could not set itself up (its arming library, for one).
  boost::system::error_code ec;
  const auto said = json::parse(*hello, ec);
  const auto* error = !ec && said.is_object() ? said.as_object().if_contains("error") : nullptr;
  if (error != nullptr && error->is_string()) {
    return SysError{0, "the Python zygote did not start: " + std::string(error->as_string()), {}};
  }
  return SysError{EPROTO, "the Python zygote said " + *hello + " instead of ready", {}};
}

Result<std::unique_ptr<PythonZygote>> PythonZygote::start(Paths paths,
                                                          std::chrono::milliseconds timeout) {
  auto process = launch(paths, timeout);
  if (!process) return process.error();
  return std::unique_ptr<PythonZygote>(new PythonZygote(std::move(paths), std::move(*process)));
}

PythonZygote::~PythonZygote() = default;

Result<void> PythonZygote::restart_locked() {
  process_.reset();
  auto process = launch(paths_, std::chrono::seconds(10));
  if (!process) return process.error();
  process_.emplace(std::move(*process));
  return {};
}

Result<void> PythonZygote::spawn(isolation::SandboxEntry& entry) {
  json::object request;
  json::array procs;
  for (const auto& file : entry.cgroup_procs) procs.emplace_back(file.string());
  request["cgroup_procs"] = std::move(procs);
  request["uid"] = entry.uid;
  request["gid"] = entry.gid;
  request["group"] = entry.group;
  request["seccomp"] = runtime_api::base64_encode(entry.seccomp);

  std::array<int, 3> fds{entry.init_pidfd.get(), entry.output_fd, entry.launch_fd.get()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof fds)> control{};
  iovec iov{};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(header), fds.data(), sizeof fds);
  // The preparer thread runs at SCHED_IDLE; holding the mutex there would make a cold start on
  // the engine thread wait for an idle-class thread to be scheduled.
  const NormalSchedulingForThisThread normal_scheduling;
  const std::lock_guard lock(mutex_);
  const std::uint64_t id = ++last_request_id_;
  request["id"] = id;
  std::string text = json::serialize(request);
  iov.iov_base = text.data();
  iov.iov_len = text.size();
  if (!process_) {
    if (auto restarted = restart_locked(); !restarted) return restarted.error();
  }
  if (::sendmsg(process_->control.get(), &message, MSG_NOSIGNAL) < 0) {
    // It died since the last request (the request never reached it): start a new one and
    // send it there.
    const auto error = isolation::last_error("send the Python zygote its request");
    if (auto restarted = restart_locked(); !restarted) return error;
    if (::sendmsg(process_->control.get(), &message, MSG_NOSIGNAL) < 0) {
      return isolation::last_error("send the restarted Python zygote its request");
    }
  }
  // The answer to this request: an answer carries its request's id, and one left over from
  // a request that timed out is skipped.
  json::value parsed;
  for (;;) {
    auto reply = receive(process_->control.get(), std::chrono::seconds(5), "fork a worker");
    if (!reply) {
      // It died (or hangs) while serving this request: this sandbox is lost, the next one
      // gets a new zygote.
      process_.reset();
      return reply.error();
    }
    boost::system::error_code ec;
    parsed = json::parse(*reply, ec);
    if (ec || !parsed.is_object()) {
      process_.reset();
      return SysError{EPROTO, "malformed answer from the Python zygote: " + *reply, {}};
    }
    const auto* answered = parsed.as_object().if_contains("id");
    if (answered != nullptr && answered->is_int64() &&
        static_cast<std::uint64_t>(answered->as_int64()) == id) {
      break;
    }
  }
  if (const auto* error = parsed.as_object().if_contains("error")) {
    return SysError{0,
                    "the Python zygote could not fork a worker: " +
                        std::string(error->is_string() ? error->as_string().c_str() : "?"),
                    {}};
  }
  return {};
}

}  // namespace ember::engine
