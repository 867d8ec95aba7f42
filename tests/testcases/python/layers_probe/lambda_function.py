"""What a function sees of its layers at /opt, and what the Extensions API answers it.

event {"files": [...]}: each /opt file's text (null when absent), whether /opt is writable, and
the /opt/extensions listing, after sleeping `sleep_s`. event {"api": true}: the Extensions API's answers to calls an
extension may not make after init (register late, an unknown identifier, bad events).
"""
import json
import os
import time
import urllib.error
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension"


def call(method, path, headers, body=None):
    request = urllib.request.Request(API + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return {"status": reply.status, "body": json.loads(reply.read() or b"null")}
    except urllib.error.HTTPError as e:
        return {"status": e.code, "body": json.loads(e.read() or b"null")}


def api_answers():
    events = json.dumps({"events": ["INVOKE"]}).encode()
    return {
        "late_register": call("POST", "/register", {"Lambda-Extension-Name": "late"}, events),
        "unknown_next": call("GET", "/event/next",
                             {"Lambda-Extension-Identifier": "00000000-0000-0000-0000-000000000000"}),
        "bad_events": call("POST", "/register", {"Lambda-Extension-Name": "bad"},
                           json.dumps({"events": ["BOOT"]}).encode()),
        "no_name": call("POST", "/register", {}, events),
    }


def lambda_handler(event, context):
    if event.get("api"):
        return api_answers()
    time.sleep(event.get("sleep_s", 0))
    out = {"files": {}}
    for name in event.get("files", []):
        try:
            with open("/opt/" + name) as f:
                out["files"][name] = f.read().strip()
        except FileNotFoundError:
            out["files"][name] = None
    try:
        open("/opt/written.txt", "w").close()
        out["write"] = "ok"
    except OSError as e:
        out["write"] = e.strerror
    out["extensions"] = sorted(os.listdir("/opt/extensions")) if os.path.isdir(
        "/opt/extensions") else []
    return out
