"""Reports what arming its worker decided, as the kernel shows it: the privilege, signal and
scheduling lines of /proc/self/status, the rlimits, the open fds, the session and the
securebits. tests/e2e/sandbox_test.cpp compares a worker exec'd by the sandbox's init with
one forked from the Python zygote."""

import ctypes
import os
import re

STATUS_FIELDS = (
    "Umask", "PPid", "TracerPid", "Uid", "Gid", "Groups", "Threads",
    "SigBlk", "SigIgn", "SigCgt",
    "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
    "NoNewPrivs", "Seccomp", "Seccomp_filters",
    "Speculation_Store_Bypass", "SpeculationIndirectBranch",
    "Cpus_allowed_list", "Mems_allowed_list",
)
PR_GET_SECUREBITS = 27


def _status():
    """The fields, with the sandbox's own user and group id (one per sandbox with
    node.sandbox_uid_range) written as "own", so two sandboxes' workers compare."""
    own = str(os.getuid())
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in STATUS_FIELDS:
                value = value.strip()
                if name in ("Uid", "Gid", "Groups"):
                    value = " ".join("own" if word == own else word
                                     for word in value.replace("\t", " ").split())
                fields[name] = value
    return fields


def _open_fds():
    """fd number -> what it is, without the inode numbers ("socket", "pipe", "/dev/null")."""
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own fd, closed by now
        fds[name] = re.sub(r":\[\d+\]$", "", target)
    return fds


def lambda_handler(event, context):
    with open("/proc/self/limits") as limits:
        rlimits = limits.read()
    with open("/proc/self/cgroup") as cgroup:
        cgroups = cgroup.read()
    libc = ctypes.CDLL(None, use_errno=True)
    return {
        "pid": os.getpid(),
        "uid": os.getuid(),
        "status": _status(),
        "limits": rlimits,
        "fds": _open_fds(),
        "cgroup": cgroups,
        "session_leader": os.getsid(0) == os.getpid(),
        "process_group_leader": os.getpgrp() == os.getpid(),
        "scheduler": os.sched_getscheduler(0),
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "securebits": libc.prctl(PR_GET_SECUREBITS, 0, 0, 0, 0),
        "cwd": os.getcwd(),
    }
