#!/usr/bin/env python3
"""`ember rie` where aws-lambda-rie falls short: its Init Duration against a runtime whose init
time is known, and concurrent clients.

1. Init Duration: the no-op C runtime (bench/runtimes/noop) with EMBER_NOOP_INIT_MS=0 and =50,
   alternating, each a fresh `ember rie` and one invocation (a cold start); prints each REPORT's
   Init Duration and the medians. The 50 ms runtime's figure minus the 0 ms one's is what the
   REPORT attributes to the sleep.
2. Concurrency: one `ember rie` (AWS_LAMBDA_MAX_CONCURRENCY = the client count), CLIENTS threads
   each sending REQUESTS invocations back to back; prints errors (anything but 200 without
   X-Amz-Function-Error), runtime processes seen (the runtime answers with nothing that names
   its process, so the REPORT lines with an Init Duration are counted) and latency.

Run from the build directory: ../../bench/scripts/rie_check.py [--ember ./ember]
    [--runtime bench/runtimes/noop/bootstrap] [--starts 10] [--clients 20] [--requests 50]
"""

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

import ember_node

INIT_RE = re.compile(r"Init Duration: ([0-9.]+) ms")


def start_rie(ember, runtime, env):
    """An `ember rie` on an ephemeral loopback port; returns (process, base URL)."""
    output = tempfile.TemporaryFile(mode="w+")
    process, address = ember_node.start(
        [ember, "rie", "--runtime-interface-emulator-address", "127.0.0.1:0", runtime], output,
        env={**os.environ, **env})
    process.output = output
    return process, "http://" + address + "/2015-03-31/functions/function/invocations"


def invoke(url, payload):
    request = urllib.request.Request(url, data=payload, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        return response.status == 200 and response.headers.get("X-Amz-Function-Error") is None


def stop(process):
    process.terminate()
    process.wait(timeout=30)
    process.output.seek(0)
    return process.output.read()


def init_durations(args):
    figures = {0: [], 50: []}
    for _ in range(args.starts):
        for init_ms in figures:
            process, url = start_rie(args.ember, args.runtime, {"EMBER_NOOP_INIT_MS": str(init_ms)})
            invoke(url, b"{}")
            found = INIT_RE.findall(stop(process))
            if len(found) != 1:
                sys.exit(f"expected one Init Duration, got {found}")
            figures[init_ms].append(float(found[0]))
    for init_ms, values in figures.items():
        print(f"init sleep {init_ms:2d} ms: Init Duration median {statistics.median(values):.2f} ms "
              f"(min {min(values):.2f}, max {max(values):.2f}, n {len(values)})")
    print(f"attributed to the 50 ms sleep (median difference): "
          f"{statistics.median(figures[50]) - statistics.median(figures[0]):.2f} ms")


def concurrency(args):
    process, url = start_rie(args.ember, args.runtime,
                             {"AWS_LAMBDA_MAX_CONCURRENCY": str(args.clients)})
    latencies, errors = [], []
    lock = threading.Lock()

    def client(number):
        for sent in range(args.requests):
            began = time.perf_counter()
            try:
                ok = invoke(url, json.dumps({"client": number, "n": sent}).encode())
            except Exception as error:  # every failure is counted, none ends the run
                ok = False
                with lock:
                    errors.append(repr(error))
            with lock:
                latencies.append(time.perf_counter() - began)
                if not ok:
                    errors.append("not 200")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    output = stop(process)
    latencies.sort()
    print(f"{args.clients} concurrent clients, {len(latencies)} invocations in {wall:.2f} s: "
          f"errors {len(errors)}, runtime processes started {len(INIT_RE.findall(output))}, "
          f"p50 {latencies[len(latencies) // 2] * 1000:.2f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms")
    for error in errors[:5]:
        print("  error:", error)
    return 1 if errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ember", default="./ember")
    parser.add_argument("--runtime", default="bench/runtimes/noop/bootstrap")
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    args.ember = os.path.abspath(args.ember)
    args.runtime = os.path.abspath(args.runtime)
    init_durations(args)
    return concurrency(args)


if __name__ == "__main__":
    sys.exit(main())
