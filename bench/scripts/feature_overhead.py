#!/usr/bin/env python3
"""Warm invoke latency with a node feature on next to off, in the same run.

--feature metrics: `node.metrics: true` (the default) against `false`, with a scraper reading
GET /metrics of the metrics node every --scrape-interval seconds meanwhile (0: none).
--feature sigv4: `node.auth: {mode: sigv4}` against no auth. `ember bench` signs every request
to both nodes (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment) before its
clock starts, so the two get the same bytes and only the check differs.

Starts two nodes from the same binary, each serving the no-op C runtime as `warm`, one with
the feature and one without. Then alternates `ember bench warm --endpoint ... -n N` between
them for --rounds rounds (so drift of the machine hits both alike), and prints each round's
p50 / p99 of the client's round trip and the engine-added time, then the medians of the
rounds and the median of each round's on - off.

Both nodes run pinned to one CPU (--pin-cpu 0): where the kernel places each runtime moves
warm latency by up to 2x between runs (docs/benchmarks.md), far more than either feature
could.

Run in the repository: bench/scripts/feature_overhead.py [--feature metrics|sigv4]
[--rounds 20] [-n 5000] [--build DIR]
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request

import ember_node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERIES = ("warm: client total", "warm: engine-added (total - handler)")


KEY_ID = "AKIDBENCH"
SECRET = "bench/secret+key"


def write_config(tmp, name, feature, on, code, memory_mb):
    path = os.path.join(tmp, f"{name}.yaml")
    node = ["node:", "  listen: 127.0.0.1:0", f"  state_dir: {tmp}/{name}-state"]
    if feature == "metrics":
        node.append(f"  metrics: {'true' if on else 'false'}")
    elif on:
        node += ["  auth:", "    mode: sigv4", "    credentials:",
                 f"      - access_key_id: {KEY_ID}", f"        secret_access_key: {SECRET}",
                 "        allow: ['*']"]
    with open(path, "w") as f:
        f.write("\n".join(node + [
            "functions:", "  - name: warm", "    runtime: provided", f"    code: {code}",
            f"    memory_mb: {memory_mb}", ""]))
    return path


def bench_warm(ember, address, n, env):
    """p50 and p99 (us) of each series of one `ember bench warm` run against a node."""
    out = subprocess.run([ember, "bench", "warm", "--endpoint", f"http://{address}", "--function",
                          "warm", "-n", str(n), "--no-baselines", "--json"],
                         check=True, capture_output=True, text=True, env=env).stdout
    figures = {}
    for series in json.loads(out)["series"]:
        label = f"{series['group']}: {series['name']}"
        if label in SERIES:
            figures[label] = (series["summary_us"]["p50"], series["summary_us"]["p99"])
    return figures


def scraper(address, interval, stop, counts):
    while not stop.wait(interval):
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as reply:
            reply.read()
        counts[0] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature", choices=["metrics", "sigv4"], default="metrics")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    parser.add_argument("--memory-mb", type=int, default=1769,
                        help="the function's memory_mb (1769: a whole CPU, no quota throttling)")
    parser.add_argument("--scrape-interval", type=float, default=1.0)
    parser.add_argument("--pin-cpu", type=int, default=0,
                        help="ember serve --pin-cpu for both nodes (-1: none); where the kernel "
                        "places a runtime moves warm latency by 2x, more than a feature could")
    args = parser.parse_args()
    ember = os.path.join(args.build, "ember")
    code = os.path.join(args.build, "bench", "runtimes", "noop")
    # For sigv4 both nodes get signed requests, so they read the same bytes; for metrics neither.
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    if args.feature == "sigv4":
        env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)

    with tempfile.TemporaryDirectory(prefix="ember-feature-bench-") as tmp:
        nodes = {}
        outputs = []
        try:
            for name, on in (("on", True), ("off", False)):
                out = open(os.path.join(tmp, f"{name}.out"), "w+")
                outputs.append(out)
                config = write_config(tmp, name, args.feature, on, code, args.memory_mb)
                pin = ["--pin-cpu", str(args.pin_cpu)] if args.pin_cpu >= 0 else []
                nodes[name] = ember_node.start([ember, "serve", "--config", config, *pin], out)
            stop = threading.Event()
            scrapes = [0]
            if args.feature == "metrics" and args.scrape_interval > 0:
                threading.Thread(target=scraper, daemon=True,
                                 args=(nodes["on"][1], args.scrape_interval, stop,
                                       scrapes)).start()
            rounds = {"on": [], "off": []}
            for r in range(args.rounds):
                # Alternate which goes first, so neither always runs right after the other.
                order = ("on", "off") if r % 2 == 0 else ("off", "on")
                for name in order:
                    figures = bench_warm(ember, nodes[name][1], args.n, env)
                    rounds[name].append(figures)
                    print(f"round {r + 1} {args.feature} {name:>3}: " + "; ".join(
                        f"{label} p50 {p50:.1f} p99 {p99:.1f} us"
                        for label, (p50, p99) in figures.items()), flush=True)
            stop.set()
        finally:
            for node, _ in nodes.values():
                node.send_signal(signal.SIGTERM)
                node.wait(timeout=30)
            for out in outputs:
                out.close()

    pinned = f"both pinned to CPU {args.pin_cpu}" if args.pin_cpu >= 0 else "not pinned"
    scraped = (f", /metrics scraped {scrapes[0]} times meanwhile" if args.feature == "metrics"
               else ", every request signed (SigV4) to both nodes")
    print(f"\n{args.feature} on next to off: median of {args.rounds} rounds of {args.n} warm "
          f"invocations each, memory_mb {args.memory_mb}, {pinned}{scraped}:")
    for label in SERIES:
        med = {name: (statistics.median(f[label][0] for f in rounds[name]),
                      statistics.median(f[label][1] for f in rounds[name])) for name in rounds}
        # Each round's on and off ran back to back: their difference cancels most of the
        # machine's drift, which a difference of medians does not.
        paired = [statistics.median(on[label][i] - off[label][i]
                                    for on, off in zip(rounds["on"], rounds["off"]))
                  for i in (0, 1)]
        print(f"{label}\n  on  p50 {med['on'][0]:7.1f} p99 {med['on'][1]:7.1f} us\n"
              f"  off p50 {med['off'][0]:7.1f} p99 {med['off'][1]:7.1f} us\n"
              f"  on - off, median of the rounds' differences: p50 {paired[0]:+6.1f} "
              f"p99 {paired[1]:+6.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
