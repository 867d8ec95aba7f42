"""Runs one of the sandbox testcase programs (tests/testcases/c) and returns how it ended.

Each program tries one escape or abuse and exits 0 when the sandbox held, 1 when the attempt
succeeded, 2 otherwise (see report.h)."""

import subprocess


def lambda_handler(event, context):
    done = subprocess.run(["/var/task/" + event["probe"], *event.get("args", [])],
                          capture_output=True, text=True, timeout=60)
    return {"exit": done.returncode, "out": done.stdout + done.stderr}
