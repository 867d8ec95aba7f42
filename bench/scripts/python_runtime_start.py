#!/usr/bin/env python3
"""Start of ember's Python runtime as a plain process: interpreter start to its first
`GET /runtime/invocation/next`, the part of a cold start the runtime itself decides.

Listens on a loopback port as the Runtime API would, starts
`/usr/bin/python3 -s -u RUNTIME_DIR/bootstrap.py` N times with a trivial handler and times each
start to the first request line; prints the minimum and the median (the minimum is the figure to
compare on a busy machine). Compile the runtime's bytecode first, as the build does
(`python3 -m compileall -q RUNTIME_DIR`), or every start recompiles it.

Run: bench/scripts/python_runtime_start.py [--runs 60] [--runtime-dir DIR] [--env NAME=VALUE ...]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANDLER = "def lambda_handler(event, context):\n    return event\n"


def read_request_line(conn):
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--runtime-dir", default=os.path.join(ROOT, "runtimes", "python"))
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the runtime")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ember-python-start-") as task, socket.socket() as api:
        with open(os.path.join(task, "lambda_function.py"), "w", encoding="utf-8") as out:
            out.write(HANDLER)
        api.bind(("127.0.0.1", 0))
        api.listen(4)
        env = {
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % api.getsockname()[1],
            "_HANDLER": "lambda_function.lambda_handler",
            "LAMBDA_TASK_ROOT": task,
            "TZ": ":UTC",
            "PATH": "/usr/bin:/bin",
        }
        env.update(item.split("=", 1) for item in args.env)
        argv = ["/usr/bin/python3", "-s", "-u", os.path.join(args.runtime_dir, "bootstrap.py")]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.Popen(argv, env=env, cwd=task, stderr=subprocess.DEVNULL)
            conn, _ = api.accept()
            line = read_request_line(conn)
            elapsed = time.perf_counter() - start
            conn.close()
            proc.kill()
            proc.wait()
            if "/runtime/invocation/next" not in line:
                sys.exit(f"expected GET .../next first, got {line!r}")
            times.append(elapsed * 1000)
    print(f"start to first next, {len(times)} runs: "
          f"min {min(times):.2f} ms, median {statistics.median(times):.2f} ms")


if __name__ == "__main__":
    main()
