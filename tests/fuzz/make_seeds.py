#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/TARGET/ (run from anywhere; idempotent).

Small, real inputs: requests as clients and runtimes send them, the examples' config, the
schedule expressions of the tests, and archives made with Python's zipfile and tarfile. The
files found by fuzzing (crashes fixed since) are added by hand beside these, named crash-*."""
import base64
import gzip
import hashlib
import io
import json
import os
import pathlib
import tarfile
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def http(method, target, headers=(), body=""):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:9000"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


# ---- the Invoke API
ctx = base64.b64encode(b'{"custom":{"k":"v"}}').decode()
invoke = {
    "plain": http("POST", "/2015-03-31/functions/echo/invocations", body='{"hello":"world"}'),
    "empty-body": http("POST", "/2015-03-31/functions/echo/invocations"),
    "qualifier": http("POST", "/2015-03-31/functions/echo/invocations?Qualifier=prod", body="[1,2]"),
    "name-qualifier": http("POST", "/2015-03-31/functions/echo%3Aprod/invocations", body="{}"),
    "arn": http("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000"
                "%3Afunction%3Aecho/invocations", body="{}"),
    "event": http("POST", "/2015-03-31/functions/echo/invocations",
                  [("X-Amz-Invocation-Type", "Event")], '{"a":1}'),
    "dryrun-tail": http("POST", "/2015-03-31/functions/echo/invocations",
                        [("X-Amz-Invocation-Type", "DryRun"), ("X-Amz-Log-Type", "Tail")], "{}"),
    "client-context": http("POST", "/2015-03-31/functions/echo/invocations",
                           [("X-Amz-Client-Context", ctx), ("X-Ember-Timings", "1")], '"s"'),
    "stream": http("POST", "/2021-11-15/functions/echo/response-streaming-invocations", body="{}"),
    "bad-json": http("POST", "/2015-03-31/functions/echo/invocations", body='{"a":'),
    "get": http("GET", "/2015-03-31/functions/echo/invocations"),
}
for name, data in invoke.items():
    put("invoke_request", name, data)

# ---- the Runtime, Extensions and Telemetry APIs
rid = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
runtime = {
    "next": http("GET", "/2018-06-01/runtime/invocation/next"),
    "response": http("POST", f"/2018-06-01/runtime/invocation/{rid}/response", body='{"ok":true}'),
    "error": http("POST", f"/2018-06-01/runtime/invocation/{rid}/error",
                  [("Lambda-Runtime-Function-Error-Type", "Runtime.Unknown")],
                  '{"errorMessage":"boom","errorType":"Error"}'),
    "init-error": http("POST", "/2018-06-01/runtime/init/error",
                       [("Lambda-Runtime-Function-Error-Type", "Runtime.NoSuchHandler")], "{}"),
    "register": http("POST", "/2020-01-01/extension/register",
                     [("Lambda-Extension-Name", "logger"),
                      ("Lambda-Extension-Accept-Feature", "accountId")],
                     '{"events":["INVOKE","SHUTDOWN"]}'),
    "ext-next": http("GET", "/2020-01-01/extension/event/next",
                     [("Lambda-Extension-Identifier", "id-logger")]),
    "ext-error": http("POST", "/2020-01-01/extension/exit/error",
                      [("Lambda-Extension-Identifier", "id-logger"),
                       ("Lambda-Extension-Function-Error-Type", "Extension.Crash")], "{}"),
    "telemetry": http("PUT", "/2022-07-01/telemetry",
                      [("Lambda-Extension-Identifier", "id-logger")],
                      json.dumps({"schemaVersion": "2022-12-13", "types": ["platform", "function"],
                                  "buffering": {"maxItems": 1000, "maxBytes": 262144,
                                                "timeoutMs": 100},
                                  "destination": {"protocol": "HTTP",
                                                  "URI": "http://sandbox.localdomain:8080/t"}})),
}
for name, data in runtime.items():
    put("runtime_api", name, data)

# ---- function names and ARNs
for i, name in enumerate(["echo", "echo:prod", "echo:$LATEST", "echo:7",
                          "arn:aws:lambda:us-east-1:000000000000:function:echo",
                          "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:live",
                          "000000000000:function:echo", "function:echo", "a" * 64, "bad name"]):
    put("function_ref", f"seed-{i}", name)

# ---- base64
for i, text in enumerate(["", "QQ==", "QUI=", "QUJD", ctx, "!!!!", "QQ=", "QR=="]):
    put("base64", f"seed-{i}", text)

# ---- the config loader: the examples and the tests' smallest function
put("config", "examples-ember", (ROOT / "examples/ember.yaml").read_text())
put("config", "runtime-dev", (ROOT / "examples/runtime-dev/ember.yaml").read_text())
put("config", "python-function", "functions:\n  - name: hello\n    runtime: python3\n"
    "    handler: lambda_function.lambda_handler\n    code: ../hello-python\n")
put("config", "schedule", "functions:\n  - name: cron\n    runtime: python3\n"
    "    handler: lambda_function.lambda_handler\n    code: ../cron-python\n"
    "    schedules:\n      - name: r\n        expression: rate(5 minutes)\n"
    "        input: '{\"kind\": \"heartbeat\"}'\n")

# ---- schedules
for i, text in enumerate(["rate(1 minute)", "rate(5 minutes)", "rate(12 hours)", "rate(2 days)",
                          "cron(0 20 * * ? *)", "cron(*/20 * * * ? *)", "cron(0 12 ? * MON-FRI *)",
                          "cron(15 10 L * ? *)", "cron(0 8 1W * ? 2026-2030)",
                          "cron(0 0 ? * 6#3 *)", "cron(0 25 * * ? *)"]):
    put("schedule", f"seed-{i}", text)

# ---- the event-stream encoder: payload, then error code / details / log result cut at NULs
put("event_stream", "chunk", b'{"partial": "answer"}')
put("event_stream", "complete", b"Runtime.ExitError\0the runtime exited\0" +
    base64.b64encode(b"START RequestId: x\n"))
put("event_stream", "empty", b"")

# ---- SigV4: requests signed by botocore with the fuzzer's credential at its clock
put("sigv4", "header-only",
    "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20260101/us-east-1/lambda/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
try:
    import datetime
    from unittest import mock

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    def signed(path, body, extra=()):
        req = botocore.awsrequest.AWSRequest(method="POST", url="http://127.0.0.1:9000" + path,
                                             data=body, headers=dict(extra))
        fixed = datetime.datetime(2026, 1, 1, 0, 0, 0)
        with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
            botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDFUZZ", "fuzz-secret"),
                                    "lambda", "us-east-1").add_auth(req)
        headers = [(k, v) for k, v in req.headers.items() if k.lower() != "host"]
        return http("POST", path, headers, body)

    put("sigv4", "signed", signed("/2015-03-31/functions/echo/invocations", '{"a":1}'))
    put("sigv4", "signed-qualifier",
        signed("/2015-03-31/functions/echo/invocations?Qualifier=prod", "{}",
               [("X-Amz-Invocation-Type", "Event")]))
except ImportError:
    pass


# ---- zip deployment packages
def zip_bytes(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


put("zip", "python", zip_bytes([("lambda_function.py", "def lambda_handler(e, c):\n    return e\n",
                                 0o100644)]))
put("zip", "tree", zip_bytes([("bin/", "", 0o40755), ("bin/bootstrap", "#!/bin/sh\n", 0o100755),
                              ("lib/data.txt", "x" * 100, 0o100644)]))
put("zip", "symlink", zip_bytes([("a.txt", "a", 0o100644), ("link", "a.txt", 0o120777)]))
put("zip", "dotdot", zip_bytes([("../escape.txt", "x", 0o100644)]))


# ---- image layers
def tar_bytes(members, gz=False):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1767225600
            if kind == "file":
                info.size = len(data)
                info.mode = 0o644
                t.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                t.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = data
                t.addfile(info)
    raw = out.getvalue()
    return gzip.compress(raw, mtime=0) if gz else raw


layer = tar_bytes([("etc/", "dir", None), ("etc/os-release", "file", b"ID=fuzz\n"),
                   ("bin/", "dir", None), ("bin/sh", "symlink", "busybox"),
                   ("bin/busybox", "file", b"\x7fELF"), ("bin/ls", "hardlink", "bin/busybox")])
put("image_layer", "plain", layer)
put("image_layer", "gzip", tar_bytes([("var/task/app.py", "file", b"print(1)\n")], gz=True))
put("image_layer", "whiteout", tar_bytes([("etc/.wh.os-release", "file", b""),
                                          ("opt/.wh..wh..opq", "file", b"")]))
put("image_layer", "escape", tar_bytes([("../x", "file", b"x"), ("l", "symlink", "/etc"),
                                        ("l/passwd", "file", b"x")]))

# ---- image manifests (tests/fuzz/image_manifest_fuzz.cpp: parts cut at "----", @N #N %N)
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Entrypoint": ["/bin/sh"], "Cmd": ["-c", "echo"],
                             "WorkingDir": "/var/task", "Env": ["PATH=/bin"]},
                  "rootfs": {"type": "layers", "diff_ids": ["@3"]}})
manifest = json.dumps({"schemaVersion": 2,
                       "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "@2", "size": 0},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                   "digest": "@3", "size": 0}]})
manifest = manifest.replace('"size": 0}, "layers"', '"size": #2}, "layers"').replace(
    '"size": 0}]', '"size": #3}]')
index = json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "@1", "size": 0,
     "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}).replace(
    '"size": 0', '"size": #1')
put("image_manifest", "oci", "\n----\n".join([index, manifest, cfg, "layer-bytes"]))
multi = json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "@1", "size": 0}]}).replace(
    '"size": 0', '"size": #2'.replace("#2", "#1"))
inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "digest": "@2", "size": 0,
                                   "platform": {"architecture": "amd64", "os": "linux"}}]}).replace(
    '"size": 0', '"size": #2')
manifest2 = manifest.replace("@2", "@3").replace("#2", "#3").replace("@3\"", "@4\"", 1)
manifest2 = json.dumps({"schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                   "digest": "@3", "size": 0},
                        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                    "digest": "@4", "size": 0}]}).replace(
    '"size": 0}, "layers"', '"size": #3}, "layers"').replace('"size": 0}]', '"size": #4}]')
put("image_manifest", "oci-multi",
    "\n----\n".join([multi, inner, manifest2, cfg.replace("@3", "@4"), "layer"]))
docker = json.dumps([{"Config": "blobs/sha256/%1", "RepoTags": ["echo:latest"],
                      "Layers": ["blobs/sha256/%2"]}])
put("image_manifest", "docker",
    "\n----\n".join([docker, cfg.replace("@3", "@2"), "layer-bytes"]))
