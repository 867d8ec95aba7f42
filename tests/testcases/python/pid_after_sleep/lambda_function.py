"""Sleeps event["ms"] milliseconds (default 300), then returns its process id: concurrent
invocations tell by it which runtime process answered."""

import os
import time


def lambda_handler(event, context):
    time.sleep(event.get("ms", 300) / 1000)
    return {"pid": os.getpid(), "function_name": context.function_name}
