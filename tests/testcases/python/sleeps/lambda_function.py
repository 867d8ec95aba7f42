"""Sleeps for event["seconds"] (default 30): for timeout tests."""

import time


def lambda_handler(event, context):
    time.sleep(event.get("seconds", 30))
    return "woke"
