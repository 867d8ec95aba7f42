#!/usr/bin/env python3
"""Runs clang-tidy over ember's sources in parallel; fails on any diagnostic.

Called by scripts/tidy.sh (which documents what is tidied and why). A file found clean is
remembered under ~/.cache/ember/tidy (EMBER_TIDY_CACHE overrides; "off" disables) by a key
of everything clang-tidy's verdict depends on: clang-tidy's version, .clang-tidy, the
compile flags and the preprocessed translation unit with its comments (NOLINT lives in
comments) and line markers, the checkout's own path replaced so that clones share it.
Only clean results are remembered, so a cached run can never hide a diagnostic: any change
to the file, a header it includes or the configuration runs clang-tidy again.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time

TIDIED = re.compile(
    r"(config|schedule|metrics|image|isolation|queue|runtime-api|engine|cli|client|bench/harness)/.*\.cpp$")


def compile_entries(database, root, narrow):
    entries = {}
    for entry in json.load(open(database, encoding="utf-8")):
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        relative = os.path.relpath(path, root)
        if TIDIED.match(relative) and re.search(narrow, relative):
            entries[relative] = entry
    return entries


def preprocess_argv(entry):
    """The entry's compile command turned into `-E -C` to stdout (no launcher, no output)."""
    argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    while argv and (os.path.basename(argv[0]) in ("env", "ccache") or "=" in argv[0]):
        argv = argv[1:]
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
        elif arg in ("-c", "-MD", "-MMD") or arg.startswith("-o"):
            continue
        else:
            out.append(arg)
    return out + ["-E", "-C", "-o", "-"]


def cache_key(entry, root, fixed):
    result = subprocess.run(preprocess_argv(entry), cwd=entry["directory"], capture_output=True,
                            check=False)
    if result.returncode != 0:
        return None  # clang-tidy will report why the file does not compile
    digest = hashlib.sha256(fixed)
    flags = " ".join(preprocess_argv(entry)).replace(root, ".")
    digest.update(flags.encode())
    digest.update(result.stdout.replace(root.encode(), b"."))
    return digest.hexdigest()


def main():
    build, root, narrow = sys.argv[1], os.getcwd(), sys.argv[2] if len(sys.argv) > 2 else ""
    entries = compile_entries(os.path.join(build, "compile_commands.json"), root, narrow)
    if not entries:
        print("tidy: no files match", file=sys.stderr)
        return 2
    cache_dir = os.environ.get("EMBER_TIDY_CACHE",
                               os.path.join(os.path.expanduser("~"), ".cache/ember/tidy"))
    use_cache = cache_dir != "off"
    if use_cache:
        os.makedirs(cache_dir, exist_ok=True)
    version = subprocess.run(["clang-tidy", "--version"], capture_output=True, check=True).stdout
    fixed = version + open(os.path.join(root, ".clang-tidy"), "rb").read()

    def tidy(relative):
        entry = entries[relative]
        key = cache_key(entry, root, fixed) if use_cache else None
        if key and os.path.exists(os.path.join(cache_dir, key)):
            return relative, True, "", True
        result = subprocess.run(
            ["clang-tidy", "-p", build, "--quiet", "--warnings-as-errors=*", relative],
            capture_output=True, text=True, check=False)
        clean = result.returncode == 0
        if clean and key:
            open(os.path.join(cache_dir, key), "w", encoding="utf-8").close()
        return relative, clean, result.stdout + result.stderr, False

    start = time.monotonic()
    failed, cached = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # Logs are printed whole, one file at a time, so parallel diagnostics do not interleave.
        for relative, clean, log, hit in pool.map(tidy, sorted(entries)):
            cached += hit
            if not clean:
                failed.append(relative)
                print(log, end="")
    seconds = int(time.monotonic() - start)
    if failed:
        print(f"tidy: diagnostics in {len(failed)} of {len(entries)} files ({seconds} s)",
              file=sys.stderr)
        return 1
    print(f"tidy: {len(entries)} files clean, {cached} of them unchanged since a clean run "
          f"({seconds} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
