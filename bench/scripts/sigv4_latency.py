#!/usr/bin/env python3
"""Warm invoke latency with SigV4 checking on next to off, in the same run.

Starts two nodes serving the same function (the no-op C runtime by default): one with
`node.auth: {mode: sigv4}`, one without. Every request is signed by botocore's SigV4Auth
before its clock starts (so client-side signing is not timed) and sent, identical in size, to
both nodes over kept-alive connections, alternating which node goes first. The difference of
the two is what the node's check adds: parsing Authorization, SHA-256 of the body, the
canonical request, one HMAC (the day's signing key is cached), a constant-time compare.
Run: bench/scripts/sigv4_latency.py [--count 2000] [--build DIR] [--payload-bytes 1024]
`--control` starts both nodes without auth (an A/A run): what it shows is the difference the
two nodes make by themselves (start order, where their runtimes run), not the check's.
`--off-first` starts the node without auth first.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import sys
import tempfile
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import ember_node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_ID = "AKIDBENCH"
SECRET = "bench/secret+key"


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name, values):
    return (f"{name:<26} n={len(values):<5} p50={statistics.median(values):8.1f} "
            f"p90={percentile(values, 90):8.1f} p99={percentile(values, 99):8.1f} "
            f"mean={statistics.fmean(values):8.1f} us")


def node_config(tmp, name, code, isolation, auth):
    lines = ["node:", "  listen: 127.0.0.1:0", f"  state_dir: {tmp}/{name}-state"]
    if auth:
        lines += ["  auth:", "    mode: sigv4", "    credentials:",
                  f"      - access_key_id: {KEY_ID}", f"        secret_access_key: {SECRET}",
                  "        allow: ['*']"]
    lines += ["functions:", "  - name: f", "    runtime: provided", f"    code: {code}",
              f"    isolation: {isolation}"]
    path = os.path.join(tmp, f"{name}.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def signed(address, body):
    """Headers of a POST of `body` to f on `address`, signed as the AWS CLI signs it."""
    request = AWSRequest(method="POST", url=f"http://{address}/2015-03-31/functions/f/invocations",
                         data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "lambda", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def timed_post(connection, headers, body):
    start = time.perf_counter_ns()
    connection.request("POST", "/2015-03-31/functions/f/invocations", body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = (time.perf_counter_ns() - start) / 1000
    if response.status != 200:
        sys.exit(f"HTTP {response.status}: {data[:300]!r}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    parser.add_argument("--code", help="function code (default: BUILD/bench/runtimes/noop)")
    parser.add_argument("--isolation", default="native", choices=["native", "none"])
    parser.add_argument("--payload-bytes", type=int, default=1024)
    parser.add_argument("--control", action="store_true",
                        help="both nodes without auth: the A/A difference of the setup itself")
    parser.add_argument("--off-first", action="store_true",
                        help="start the node without auth first")
    args = parser.parse_args()
    ember = os.path.join(args.build, "ember")
    code = args.code or os.path.join(args.build, "bench", "runtimes", "noop")
    body = json.dumps({"pad": "x" * max(0, args.payload_bytes - 11)}).encode()

    with tempfile.TemporaryDirectory(prefix="ember-sigv4-bench-") as tmp:
        outputs, nodes, addresses = [], [], {}
        try:
            kinds = [("on", not args.control), ("off", False)]
            for name, auth in (reversed(kinds) if args.off_first else kinds):
                out = open(os.path.join(tmp, f"{name}.out"), "w+")
                outputs.append(out)
                config = node_config(tmp, name, code, args.isolation, auth)
                node, addresses[name] = ember_node.start([ember, "serve", "--config", config], out)
                nodes.append(node)
            connections = {name: http.client.HTTPConnection(address.rsplit(":", 1)[0],
                                                          int(address.rsplit(":", 1)[1]))
                           for name, address in addresses.items()}
            # Signed up front (botocore takes ~50 us a request); all within the 5 minutes.
            warmup = 50
            requests = {name: [signed(address, body) for _ in range(args.count + warmup)]
                        for name, address in addresses.items()}
            times = {"on": [], "off": []}
            for i in range(args.count + warmup):
                order = ("on", "off") if i % 2 == 0 else ("off", "on")
                for name in order:
                    elapsed = timed_post(connections[name], requests[name][i], body)
                    if i >= warmup:
                        times[name].append(elapsed)
            # The node with auth refuses what is not signed: the check really ran.
            connections["on"].request("POST", "/2015-03-31/functions/f/invocations", body=body)
            refused = connections["on"].getresponse()
            refused.read()
            if refused.status != (200 if args.control else 403):
                sys.exit(f"the sigv4 node answered an unsigned request with {refused.status}")
        finally:
            for node in nodes:
                node.send_signal(signal.SIGTERM)
                node.wait(timeout=30)
            for out in outputs:
                out.close()

    on, off = times["on"], times["off"]
    print(f"warm Invoke, {os.path.basename(code)} runtime, isolation {args.isolation}, "
          f"{len(body)} B event, {args.count} calls each, alternating; client wall time"
          f"{'; CONTROL: both nodes without auth' if args.control else ''}"
          f"{'; the node without auth started first' if args.off_first else ''}")
    print(summary("sigv4 on", on))
    print(summary("sigv4 off", off))
    pairs = sorted(a - b for a, b in zip(on, off))
    print(f"added by sigv4: p50 {statistics.median(on) - statistics.median(off):+.1f} us, "
          f"mean {statistics.fmean(on) - statistics.fmean(off):+.1f} us, "
          f"median of pairwise differences {statistics.median(pairs):+.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
