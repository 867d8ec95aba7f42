"""Allocates and touches memory in 8 MB steps until the memory limit ends the runtime."""

import sys

held = []


def lambda_handler(event, context):
    while True:
        held.append(b"x" * (8 << 20))  # written, so every page is really used
        print(len(held) * 8, "MB", file=sys.stderr)
