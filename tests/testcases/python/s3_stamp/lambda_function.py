"""Returns the keys of the S3 records it got and when it started (ns since the epoch), so a
test can measure the delay from a file's close to its function's start."""

import time


def lambda_handler(event, context):
    started_ns = time.time_ns()
    return {"keys": [r["s3"]["object"]["key"] for r in event["Records"]], "started_ns": started_ns}
