#!/usr/bin/env python3
"""Cold and warm latency of a function through `ember invoke`, as a user would see it.

Starts a node serving N copies of one function (each first call is a cold start), then:
  cold: invokes each copy once;
  warm: invokes one copy N times after a warm-up call.
Reports client wall time (spawning `ember invoke` included) and, from the REPORT lines,
Init Duration and Duration. Run: bench/scripts/invoke_latency.py [--count 100] [--build DIR]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import ember_node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAYLOAD = '{"key1":"value1","key2":"value2","key3":"value3"}'


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name, values, unit="ms"):
    return (f"{name:<28} n={len(values):<4} p50={statistics.median(values):8.2f} "
            f"p90={percentile(values, 90):8.2f} p99={percentile(values, 99):8.2f} "
            f"min={min(values):8.2f} max={max(values):8.2f} {unit}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    parser.add_argument("--code", default=os.path.join(ROOT, "examples", "hello-python"))
    parser.add_argument("--runtime", default="python3")
    parser.add_argument("--handler", default="lambda_function.lambda_handler")
    args = parser.parse_args()
    ember = os.path.join(args.build, "ember")

    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        lines = ["node:", "  listen: 127.0.0.1:0", f"  state_dir: {tmp}/state", "functions:"]
        for i in range(args.count + 1):
            lines += [f"  - name: f{i}", f"    runtime: {args.runtime}",
                      f"    handler: {args.handler}", f"    code: {args.code}",
                      "    reserved_concurrency: 1"]
        config = os.path.join(tmp, "ember.yaml")
        with open(config, "w") as f:
            f.write("\n".join(lines) + "\n")

        out = open(os.path.join(tmp, "stdout"), "w+")
        node, address = ember_node.start([ember, "serve", "--config", config], out)
        endpoint = f"http://{address}"

        def invoke(name):
            start = time.perf_counter()
            subprocess.run([ember, "invoke", name, "--endpoint", endpoint, "--payload", PAYLOAD],
                           check=True, stdout=subprocess.DEVNULL)
            return (time.perf_counter() - start) * 1000

        try:
            cold = [invoke(f"f{i}") for i in range(1, args.count + 1)]
            invoke("f0")
            warm = [invoke("f0") for _ in range(args.count)]
        finally:
            node.send_signal(signal.SIGTERM)
            node.wait(timeout=30)
            out.close()

        logs = open(os.path.join(tmp, "stdout")).read()
        reports = re.findall(r"\[(f\d+)\] REPORT .*?Duration: ([\d.]+) ms.*?(?:Init Duration: "
                             r"([\d.]+) ms)?\t$", logs, re.M)
        init = [float(r[2]) for r in reports if r[2]]
        warm_duration = [float(r[1]) for r in reports if r[0] == "f0" and not r[2]]

    print(f"ember invoke, {args.runtime} {os.path.basename(args.code)}, {args.count} calls each")
    print(summary("cold, client wall time", cold))
    print(summary("warm, client wall time", warm))
    print(summary("cold, REPORT Init Duration", init))
    print(summary("warm, REPORT Duration", warm_duration))
    print(f"warm/cold client p50 ratio: {statistics.median(warm) / statistics.median(cold):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
