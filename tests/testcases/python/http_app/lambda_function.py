"""An HTTP route's function whose answer depends on the last segment of the path: each
response shape an ALB or a Function URL converts, a failure, and a timeout."""

import base64
import json
import time


def lambda_handler(event, context):
    path = event.get("rawPath") or event.get("path")
    last = path.rsplit("/", 1)[-1]
    if last == "bare":
        return "Hello"  # a Function URL sends it as a 200 JSON body, quotes included
    if last == "cookies":
        return {"statusCode": 200, "cookies": ["a=1", "b=2"], "body": "with cookies"}
    if last == "binary":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode(), "isBase64Encoded": True}
    if last == "invalid":
        return {"body": "a document without statusCode"}
    if last == "fail":
        raise ValueError("the function failed on purpose")
    if last == "slow":
        time.sleep(10)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event)}
