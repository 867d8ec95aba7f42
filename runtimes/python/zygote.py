"""ember's Python zygote: a pre-initialised interpreter that forks workers into sandboxes.

The engine starts it once per function, as root and outside any sandbox:

    /usr/bin/python3 -s -u -B <runtimes>/python/zygote.py <path of libember-arm.so>

with a SOCK_SEQPACKET socket at fd 3. It loads libember-arm.so (the arming steps of
ember-sandbox-init's worker, isolation/src/init/arm.cpp, behind a C ABI) there and then,
on the host: the library stays mapped through every setns and fork that follows. It
imports the runtime client (and what the runtime client imports) once, says "ready"
(or {"error": ...}), then serves one request per datagram:
a JSON object plus, as SCM_RIGHTS, the sandbox init's pidfd, the output pipe and the
read end of the sandbox's launch pipe. Requests come while the engine prepares a
sandbox, ahead of any invocation.

For each request it forks a worker into the prepared sandbox:

1. The zygote points its pid_for_children at the sandbox's pid namespace, forks, and
   points it back. The child is pid 2 in the sandbox; the zygote's own namespaces
   never change.
2. The child joins the sandbox's cgroup, enters its mount, network, IPC, UTS and
   cgroup namespaces (its root becomes the sandbox's root), forks the worker (pid 3)
   and exits, so the worker is re-parented to the sandbox's init, which reaps it and
   reports its exit like any other worker.
3. The worker arms itself with ember-sandbox-init's own code, through libember-arm.so
   (signals, session, stdin, rlimits, bounding set, securebits, uid and gid, capabilities,
   no_new_privs, other fds, and the seccomp filter last), puts back the signal handling the
   interpreter had, and tells the zygote it is armed; the zygote answers the engine then.
4. At the cold start the engine writes the Launch (argv, env, working directory; the
   init protocol's records) into the launch pipe and closes it. The worker takes that
   environment and runs the runtime client, which imports the function's handler:
   nothing of the function runs before the sandbox is complete.

No function code ever runs in the zygote. A request that cannot be served gets
{"error": "..."}; the sandbox it was for is then discarded by the engine.
"""

import array
import base64
import ctypes
import gc
import importlib.machinery
import json
import os
import signal
import sys
import time
import _socket

import ember_runtime

CONTROL_FD = 3

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# The worker's pid inside the sandbox: init is 1, the zygote's child 2.
WORKER_PID = 3
# The worker's pipes, where the arming keeps them (ember_arm.h): every fd above is closed.
ARMED_FD = 3
LAUNCH_FD = 4
# EMBER_ARM_ABI_VERSION of isolation/src/arm_abi/ember_arm.h, whose struct this mirrors.
ARM_ABI_VERSION = 2
# Launch records (isolation/src/init_protocol.cpp): tag byte, 4-byte little-endian size.
TAG_ARGV, TAG_ENV, TAG_WORKING_DIR = 1, 2, 3

_libc = ctypes.CDLL(None, use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


class _ArmSpec(ctypes.Structure):
    """struct ember_arm_spec."""
    _fields_ = [("abi_version", ctypes.c_uint32), ("uid", ctypes.c_uint32),
                ("gid", ctypes.c_uint32), ("group", ctypes.c_uint32),
                ("seccomp", ctypes.c_void_p),
                ("seccomp_bytes", ctypes.c_size_t)]


def _load_arm_library(path):
    """libember-arm.so, checked to speak this file's ABI."""
    library = ctypes.CDLL(path)
    library.ember_arm_abi_version.restype = ctypes.c_uint32
    library.ember_arm_abi_version.argtypes = []
    version = library.ember_arm_abi_version()
    if version != ARM_ABI_VERSION:
        raise StepFailed(f"{path} has arm ABI {version}, zygote.py speaks {ARM_ABI_VERSION}")
    library.ember_arm_worker.restype = ctypes.c_int
    library.ember_arm_worker.argtypes = [ctypes.POINTER(_ArmSpec), ctypes.c_char_p,
                                         ctypes.c_size_t]
    return library


_arm_library = None  # set by main()


class StepFailed(Exception):
    """A named step of entering the sandbox failed."""


def _check(rc, step):
    if rc < 0:
        err = ctypes.get_errno()
        raise StepFailed(f"{step}: {os.strerror(err)}")


def _setns(fd, flags, step):
    _check(_libc.setns(fd, flags), step)


def _fail(message):
    """A failure in the child or the worker: name it in the function's log and end. The
    engine sees the worker never call `next` and init's exit."""
    try:
        os.write(2, f"ember-zygote: {message}\n".encode())
    finally:
        os._exit(126)


def _enter(request, pidfd, output_fd, launch_fd, armed_fd):
    """Child (pid 2 in the sandbox): join the sandbox, fork the worker, exit. Never returns,
    whatever fails: a child that fell back into the zygote's loop would be a second zygote."""
    try:
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        # The zygote ignores SIGCHLD (it never waits); here that would let the kernel reap
        # the worker before the sandbox's init could see it exit.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for procs in request["cgroup_procs"]:
            with open(procs, "w") as f:
                f.write("0")  # "0": the writing process itself
        _setns(pidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
               CLONE_NEWCGROUP, "setns into the sandbox's namespaces")
        if os.fork() == 0:
            _become_worker(request, launch_fd, armed_fd)
    except BaseException as exc:  # noqa: B036 - nothing may escape into the zygote's loop
        _fail(f"enter sandbox: {exc}")
    finally:
        os._exit(0)


def _read_launch(fd):
    """The Launch's records, read to EOF: (argv, env dict, working directory)."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except InterruptedError:
            continue
        if not chunk:
            break
        data += chunk
    argv, env, cwd = [], {}, "/var/task"
    at = 0
    while at + 5 <= len(data):
        tag, size = data[at], int.from_bytes(data[at + 1:at + 5], "little")
        payload = data[at + 5:at + 5 + size].decode("utf-8", "surrogateescape")
        at += 5 + size
        if tag == TAG_ARGV:
            argv.append(payload)
        elif tag == TAG_ENV:
            key, _, value = payload.partition("=")
            env[key] = value
        elif tag == TAG_WORKING_DIR:
            cwd = payload
    return argv, env, cwd, bool(data)


def _warm_up():
    """Work the launch would otherwise pay for, done while armed: the pages the environment
    and the import system write are copied from the zygote now, and the finder for
    /var/task (the function's code, read-only, already mounted) lists its directory now.
    Nothing of the function is imported."""
    os.environ.clear()
    os.environ.update({f"EMBER_WARM_UP_{i}": "x" * 64 for i in range(32)})
    os.environ.clear()
    importlib.machinery.PathFinder.find_spec("ember_no_such_module", ["/var/task"])


def _become_worker(request, launch_fd, armed_fd):
    """The worker (pid 3): drop everything, load the filter, wait for the launch, run.
    Never returns."""
    try:
        _arm(request, launch_fd, armed_fd)
        # Armed. Nothing of the function is known before this read returns.
        argv, env, cwd, launched = _read_launch(LAUNCH_FD)
        os.close(LAUNCH_FD)
        if not launched:
            os._exit(0)  # the sandbox was discarded unused
        try:
            os.chdir(cwd)  # as the worker's uid: an unreadable code directory fails here
        except OSError as exc:
            _fail(f"working directory {cwd}: {exc.strerror}")
        _take_environment(env)
        sys.argv = argv[:1] or ["python3"]
    except BaseException as exc:  # noqa: B036 - nothing may escape into the zygote's loop
        _fail(f"prepare worker: {exc}")
    status = 1
    try:
        status = ember_runtime.run()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: B036
        ember_runtime.log(f"[ember-runtime] {type(exc).__name__}: {exc}")
    finally:
        ember_runtime.flush_output()
        os._exit(status if isinstance(status, int) else 1)


def _arm(request, launch_fd, armed_fd):
    """Everything before the launch: ember-sandbox-init's arming, then the runtime's set-up."""
    if os.getpid() != WORKER_PID:
        raise StepFailed(f"worker is pid {os.getpid()}, not {WORKER_PID}: the sandbox "
                         "was not fresh")
    os.dup2(armed_fd, ARMED_FD)
    os.dup2(launch_fd, LAUNCH_FD)
    program = base64.b64decode(request["seccomp"])
    buffer = ctypes.create_string_buffer(program, len(program))
    spec = _ArmSpec(ARM_ABI_VERSION, request["uid"], request["gid"], request["group"],
                    ctypes.cast(buffer, ctypes.c_void_p), len(program))
    error = ctypes.create_string_buffer(512)
    err = _arm_library.ember_arm_worker(ctypes.byref(spec), error, len(error))
    if err != 0:
        raise StepFailed(f"{error.value.decode(errors='replace')}: {os.strerror(err)}")
    _reinstall_signal_handling()
    ember_runtime.prepare_process()
    _warm_up()
    os.write(ARMED_FD, b"A")
    os.close(ARMED_FD)


def _reinstall_signal_handling():
    """The arming reset every signal's disposition in the kernel; put back what the
    interpreter had set up (SIGINT's KeyboardInterrupt, SIGPIPE and SIGXFSZ ignored), as a
    fresh interpreter has it, so the kernel and the signal module agree again."""
    for sig in signal.valid_signals():
        try:
            handler = signal.getsignal(sig)
        except ValueError:
            continue
        if handler not in (None, signal.SIG_DFL):
            signal.signal(sig, handler)


def _take_environment(env):
    """The launch's environment, and what a fresh interpreter would have made of it at its
    start: the time zone (TZ) and PYTHONPATH's entries on the path."""
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    extra = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.path[0:0] = extra


def _fork_worker(request, pidfd, output_fd, launch_fd, own_pidns):
    """Forks the child into the sandbox's pid namespace; waits until its worker is armed."""
    # Everything allocated so far is left alone by the collector in the children, so its
    # pages stay shared instead of being copied when a collection touches them.
    gc.freeze()
    armed_read, armed_write = os.pipe()
    try:
        _setns(pidfd, CLONE_NEWPID, "setns pid_for_children")
        try:
            child = os.fork()
        except OSError:
            _setns(own_pidns, CLONE_NEWPID, "setns back to the zygote's pid namespace")
            raise
        if child == 0:
            os.close(armed_read)
            _enter(request, pidfd, output_fd, launch_fd, armed_write)  # never returns
        _setns(own_pidns, CLONE_NEWPID, "setns back to the zygote's pid namespace")
        os.close(armed_write)
        armed_write = -1
        # "A" from the worker, or EOF when it died first (its reason is in the function's log).
        while True:
            try:
                answer = os.read(armed_read, 1)
                break
            except InterruptedError:
                continue
        if answer != b"A":
            return {"error": "the worker died before it was armed; see the function's log"}
        return {"ok": True}
    finally:
        os.close(armed_read)
        if armed_write >= 0:
            os.close(armed_write)


def _serve(control):
    own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    while True:
        try:
            message, ancillary, _, _ = control.recvmsg(1 << 20, _socket.CMSG_SPACE(12))
        except InterruptedError:
            continue
        if not message:
            return  # the engine went away
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        reply = {}
        request = None
        try:
            if len(fds) != 3:
                raise StepFailed(f"expected 3 fds (init pidfd, output, launch), got {len(fds)}")
            request = json.loads(message)
            pidfd, output_fd, launch_fd = fds
            reply = _fork_worker(request, pidfd, output_fd, launch_fd, own_pidns)
            reply["id"] = request.get("id")
        except (OSError, ValueError, KeyError, StepFailed) as exc:
            reply = {"error": str(exc), "id": request.get("id") if isinstance(request, dict)
                     else None}
        finally:
            for fd in fds:
                os.close(fd)
        control.send(json.dumps(reply).encode())


def main():
    global _arm_library
    control = _socket.socket(fileno=CONTROL_FD)
    try:
        _arm_library = _load_arm_library(sys.argv[1])
    except (IndexError, OSError, AttributeError, StepFailed) as exc:
        control.send(json.dumps({"error": f"load the arming library: {exc}"}).encode())
        return 1
    # Children are never waited for: the first exits at once, the worker belongs to the
    # sandbox's init.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    control.send(b'{"ready": true}')
    _serve(control)
    return 0


if __name__ == "__main__":
    sys.exit(main())
