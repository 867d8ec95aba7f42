"""Reports, from inside its sandbox, which runtimes directory the node mounted at /var/runtime
and whether Python loads ember's runtime client from its compiled bytecode there."""

import os
import subprocess
import sys


def lambda_handler(event, context):
    # -v names where each module's code object came from; -B writes nothing.
    imported = subprocess.run(
        [sys.executable, "-v", "-B", "-c", "import ember_runtime"],
        env={"PYTHONPATH": "/var/runtime/python"},
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "marker": os.path.exists("/var/runtime/" + event["marker"]),
        "import_log": [line for line in imported.stderr.splitlines() if "ember_runtime" in line],
    }
