"""Starting an ember node (`ember serve`, `ember rie`) from the bench's scripts."""

import os
import subprocess
import sys


def start(argv, output, env=None):
    """Runs argv with `--ready-fd` added, its stdout and stderr into the file `output` (a file,
    not a pipe: a pipe nobody reads fills up and the node's writes to it block); returns the
    process and the HOST:PORT it announced once it accepts requests."""
    ready_r, ready_w = os.pipe()
    node = subprocess.Popen([*argv, "--ready-fd", str(ready_w)], env=env, stdout=output,
                            stderr=subprocess.STDOUT, pass_fds=(ready_w,))
    os.close(ready_w)
    with os.fdopen(ready_r) as ready:
        address = ready.readline().strip()
    if not address:
        node.wait()
        output.seek(0)
        sys.exit(f"{argv[0]} {argv[1]} did not become ready: {output.read()}")
    return node, address
