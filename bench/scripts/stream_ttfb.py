#!/usr/bin/env python3
"""Time to first byte of a streamed response against the buffered one, in the same run.

Starts a node serving the streaming test runtime (tests/testcases/provided/streaming) with
isolation: none, then, warm, takes turns between three calls of the same work (CHUNKS pieces
of 64 KiB with DELAY ms of work between them, so the whole answer takes (CHUNKS-1) x DELAY):
  streamed:  InvokeWithResponseStream, the runtime streaming each piece when it is made;
  buffered:  InvokeWithResponseStream, the runtime posting the whole answer at the end;
  invoke:    a plain Invoke of the buffered runtime.
The time to first byte is from the request's last byte written to the first body byte read
(http.client, one kept-alive connection per kind); the total to the last byte.
Run: bench/scripts/stream_ttfb.py [--count 20] [--chunks 5] [--delay-ms 50] [--build DIR]
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

import ember_node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNTIME = os.path.join(ROOT, "tests", "testcases", "provided", "streaming")


def call(conn, path, event):
    """(first byte ms, last byte ms, body bytes) of one POST."""
    body = json.dumps(event)
    start = time.perf_counter()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    reply = conn.getresponse()
    first = reply.read(1)
    ttfb = time.perf_counter() - start
    rest = reply.read()
    total = time.perf_counter() - start
    if reply.status != 200 or not first:
        raise RuntimeError(f"{path}: status {reply.status} {rest[:200]!r}")
    return ttfb * 1000, total * 1000, len(first) + len(rest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    args = parser.parse_args()
    ember = os.path.join(args.build, "ember")
    piece = "x" * 65536
    streamed = {"chunks": [piece] * args.chunks, "delay_ms": args.delay_ms}
    buffered = dict(streamed, buffered=True)

    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        config = os.path.join(tmp, "ember.yaml")
        with open(config, "w") as f:
            f.write("\n".join([
                "node:", "  listen: 127.0.0.1:0", f"  state_dir: {tmp}/state", "functions:",
                "  - name: streamer", "    runtime: provided", "    handler: unused",
                f"    code: {RUNTIME}", "    isolation: none", "    timeout_s: 30",
                "    reserved_concurrency: 3"]) + "\n")
        out = open(os.path.join(tmp, "stdout"), "w+")
        node, address = ember_node.start([ember, "serve", "--config", config], out)
        host, port = address.rsplit(":", 1)
        stream_path = "/2021-11-15/functions/streamer/response-streaming-invocations"
        invoke_path = "/2015-03-31/functions/streamer/invocations"
        kinds = {"streamed": (stream_path, streamed), "buffered": (stream_path, buffered),
                 "invoke": (invoke_path, buffered)}
        conns = {kind: http.client.HTTPConnection(host, int(port)) for kind in kinds}
        results = {kind: [] for kind in kinds}
        try:
            for kind, (path, event) in kinds.items():
                call(conns[kind], path, event)  # warm-up: starts the worker
            for _ in range(args.count):
                for kind, (path, event) in kinds.items():
                    results[kind].append(call(conns[kind], path, event))
        finally:
            node.send_signal(signal.SIGTERM)
            node.wait(timeout=30)
            out.close()

    work = (args.chunks - 1) * args.delay_ms
    print(f"{args.chunks} x 64 KiB with {args.delay_ms} ms between pieces ({work} ms of work), "
          f"{args.count} warm calls of each kind, taking turns")
    for kind, values in results.items():
        ttfb = statistics.median(v[0] for v in values)
        total = statistics.median(v[1] for v in values)
        print(f"{kind:<9} first byte p50 {ttfb:8.2f} ms   last byte p50 {total:8.2f} ms   "
              f"body {values[0][2]} bytes")
    streamed_ttfb = statistics.median(v[0] for v in results["streamed"])
    for kind in ("buffered", "invoke"):
        other = statistics.median(v[0] for v in results[kind])
        print(f"first byte, streamed / {kind}: {streamed_ttfb / other:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
