"""Entry point of ember's Python runtime; the engine runs it as

    /usr/bin/python3 -s -u <runtimes>/python/bootstrap.py

with the function's code directory as working directory. The work happens in
ember_runtime, a module rather than this script because Python caches an
imported module's bytecode but recompiles the main script on every start.
"""

import sys

import ember_runtime

if __name__ == "__main__":
    sys.exit(ember_runtime.main())
