"""An internal extension: a thread of the runtime's process that registers at import (during
the init phase) and prints each INVOKE it receives. A second registration, for SHUTDOWN,
must be refused: only external extensions (files of /opt/extensions) get SHUTDOWN.
"""
import json
import os
import threading
import urllib.error
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension"


def call(method, path, headers, body=None):
    request = urllib.request.Request(API + path, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=None) as reply:
        return reply.headers, reply.read()


try:
    call("POST", "/register", {"Lambda-Extension-Name": "internal-shutdown"},
         json.dumps({"events": ["SHUTDOWN"]}).encode())
    SHUTDOWN_ANSWER = 200
except urllib.error.HTTPError as e:
    SHUTDOWN_ANSWER = f"{e.code} {json.loads(e.read())['errorType']}"

headers, _ = call("POST", "/register", {"Lambda-Extension-Name": "internal-watcher"},
                  json.dumps({"events": ["INVOKE"]}).encode())
IDENT = headers["Lambda-Extension-Identifier"]


def watch():
    while True:
        _, body = call("GET", "/event/next", {"Lambda-Extension-Identifier": IDENT})
        print("[internal-watcher] INVOKE " + json.loads(body)["requestId"], flush=True)


threading.Thread(target=watch, daemon=True).start()


def lambda_handler(event, context):
    return {"shutdown_registration": SHUTDOWN_ANSWER}
