#!/usr/bin/env python3
"""Runs an unpacked Lambda container image under runc against a one-event Lambda Runtime API.

Used by check-node-image.sh, independent of ember: it serves the Runtime API on 127.0.0.1,
rewrites the bundle's config.json (written by `umoci unpack`) the way Lambda runs an image
(read-only root, writable /tmp, a non-root uid, the Lambda variables, _HANDLER from the
command), starts the container with `runc run`, hands the runtime one event and checks the
response it posts. Exit status 0 only when the handler's result arrived and matches.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/2018-06-01/runtime"
INVOCATION = re.compile(API + r"/invocation/([^/]+)/(response|error)$")


class OneEventRuntimeApi:
    """The Runtime API side of one invocation: the first `next` gets the event, later ones
    wait (as on Lambda, where the worker parks in `next`) until the check ends."""

    def __init__(self, event, function_arn, deadline_s):
        self.event_body = json.dumps(event).encode()
        self.request_id = str(uuid.uuid4())
        self.function_arn = function_arn
        self.deadline_s = deadline_s
        self.finished = threading.Event()  # a response or an error arrived
        self.closing = threading.Event()  # parked `next` calls may return
        self.lock = threading.Lock()
        self.event_sent = False
        self.first_next_at = None
        self.outcome = None  # ("response" | "error" | "init-error", body bytes)

    def handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the runtime keeps its connection alive

            def log_message(self, fmt, *args):
                sys.stderr.write("runtime-api: %s\n" % (fmt % args))

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def read_body(self):
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def do_GET(self):
                if self.path != API + "/invocation/next":
                    self.reply(404, b'{"errorType":"NotFound"}')
                    return
                with api.lock:
                    first = not api.event_sent
                    api.event_sent = True
                    if first:
                        api.first_next_at = time.monotonic()
                if not first:
                    api.closing.wait()
                    self.close_connection = True
                    self.reply(410, b'{"errorType":"CheckFinished"}')
                    return
                deadline_ms = int((time.time() + api.deadline_s) * 1000)
                self.reply(200, api.event_body, [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", api.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn", api.function_arn),
                    ("Lambda-Runtime-Trace-Id",
                     "Root=1-00000000-000000000000000000000000;Sampled=0"),
                ])

            def do_POST(self):
                body = self.read_body()
                match = INVOCATION.match(self.path)
                if self.path == API + "/init/error":
                    kind = "init-error"
                elif match and match.group(1) == api.request_id:
                    kind = match.group(2)
                else:
                    self.reply(404, b'{"errorType":"UnknownRequestId"}')
                    return
                self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                with api.lock:
                    if api.outcome is None:
                        api.outcome = (kind, body)
                api.finished.set()

        return Handler


def read_image_config(layout, tag):
    """The image config's "config" object (Entrypoint, Cmd, Env, WorkingDir) of layout:tag."""
    def blob(digest):
        algorithm, hex_digest = digest.split(":", 1)
        with open(os.path.join(layout, "blobs", algorithm, hex_digest)) as f:
            return json.load(f)

    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for descriptor in index.get("manifests", []):
        if descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            manifest = blob(descriptor["digest"])
            return blob(manifest["config"]["digest"]).get("config", {})
    raise SystemExit("check: no tag %s in %s/index.json" % (tag, layout))


def lambda_environment(api_address, command, function_name, memory_mb):
    return {
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "_HANDLER": command[0] if command else "",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + function_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": "check",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def prepare_bundle(bundle, image_config, env, uid, gid):
    """Makes umoci's generated runtime config run the image as Lambda would."""
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    process = spec["process"]
    process["terminal"] = False
    process["user"] = {"uid": uid, "gid": gid}
    # The image's Env, Lambda's variables on top (as on Lambda); not umoci's HOME and TERM,
    # which neither Lambda nor ember set.
    merged = dict(item.split("=", 1) for item in image_config.get("Env") or [])
    merged.update(env)
    process["env"] = ["%s=%s" % kv for kv in merged.items()]
    args = image_config.get("Entrypoint") or []
    args = args + (image_config.get("Cmd") or [])
    if not args:
        raise SystemExit("check: the image has neither Entrypoint nor Cmd")
    process["args"] = args
    process["cwd"] = image_config.get("WorkingDir") or "/"
    spec["root"]["readonly"] = True
    spec["mounts"] = [m for m in spec["mounts"] if m["destination"] != "/tmp"]
    spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                           "options": ["nosuid", "nodev", "mode=1777", "size=512m"]})
    # Share the host's network namespace, where the Runtime API listens on 127.0.0.1.
    linux = spec.setdefault("linux", {})
    linux["namespaces"] = [ns for ns in linux.get("namespaces", []) if ns["type"] != "network"]
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True, help="the OCI image layout directory")
    parser.add_argument("--tag", default="latest")
    parser.add_argument("--bundle", required=True,
                        help="bundle of that image written by `umoci unpack`")
    parser.add_argument("--container-id", required=True)
    parser.add_argument("--runtime", default="runc", help="OCI runtime binary (runc, crun)")
    parser.add_argument("--uid", type=int, default=993, help="ember's default sandbox uid")
    parser.add_argument("--gid", type=int, default=993)
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument("--entrypoint", type=json.loads,
                        help="JSON array replacing the image's Entrypoint (Lambda ImageConfig)")
    parser.add_argument("--command", type=json.loads,
                        help="JSON array replacing the image's Cmd (Lambda ImageConfig)")
    args = parser.parse_args()

    image_config = read_image_config(args.image, args.tag)
    if args.entrypoint is not None:
        image_config["Entrypoint"] = args.entrypoint
    if args.command is not None:
        image_config["Cmd"] = args.command
    event = {"check": "examples/images/check-node-image.sh", "nonce": str(uuid.uuid4())}
    function_name = "node-image-check"
    arn = "arn:aws:lambda:us-east-1:000000000000:function:" + function_name
    api = OneEventRuntimeApi(event, arn, args.timeout_s)
    server = ThreadingHTTPServer(("127.0.0.1", 0), api.handler_class())
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = "127.0.0.1:%d" % server.server_address[1]

    env = lambda_environment(address, image_config.get("Cmd") or [], function_name, 512)
    prepare_bundle(args.bundle, image_config, env, args.uid, args.gid)

    started = time.monotonic()
    container = subprocess.Popen(
        [args.runtime, "run", "--bundle", args.bundle, args.container_id],
        stdin=subprocess.DEVNULL)
    # Wake when the outcome arrives or the container exits, whichever is first.
    threading.Thread(target=lambda: (container.wait(), api.finished.set()), daemon=True).start()
    arrived = api.finished.wait(args.timeout_s)
    finished_at = time.monotonic()
    api.closing.set()
    subprocess.run([args.runtime, "kill", args.container_id, "KILL"],
                   stderr=subprocess.DEVNULL, check=False)
    try:
        container.wait(timeout=10)
    finally:
        subprocess.run([args.runtime, "delete", "--force", args.container_id],
                       stderr=subprocess.DEVNULL, check=False)
        server.shutdown()

    if not arrived:
        raise SystemExit("check: no response within %.0f s" % args.timeout_s)
    if api.outcome is None:
        raise SystemExit("check: the container exited (status %s) before it answered"
                         % container.returncode)
    kind, body = api.outcome
    if kind != "response":
        raise SystemExit("check: the runtime posted %s: %s" % (kind, body.decode(errors="replace")))
    result = json.loads(body)
    expected = {"echo": event, "requestId": api.request_id,
                "handler": (image_config.get("Cmd") or [""])[0],
                "cwd": image_config.get("WorkingDir"), "uid": args.uid,
                "functionName": function_name}
    wrong = {k: (result.get(k), v) for k, v in expected.items() if result.get(k) != v}
    if wrong:
        raise SystemExit("check: unexpected response %s; (got, expected): %s" % (result, wrong))
    print(json.dumps(result, indent=2))
    print("check: OK, the handler's result arrived: container start to first next %.0f ms, "
          "to response %.0f ms" % ((api.first_next_at - started) * 1000,
                                    (finished_at - started) * 1000))


if __name__ == "__main__":
    main()
