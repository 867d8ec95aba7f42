#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy) over ember's C++ sources with a build's compile_commands.json,
# one process per core; fails on any diagnostic.
#   bash scripts/tidy.sh [BUILD_DIR] [PATH_REGEX]
# BUILD_DIR defaults to build/release (configured with that preset when missing); PATH_REGEX
# narrows the files (e.g. 'engine/src/'). Tidied: what ships in `ember` and
# `ember-sandbox-init` (config, schedule, image, isolation, queue, runtime-api, engine, cli, and bench/harness, which is
# `ember bench`). Not tidied: tests/ and bench/'s micro benchmarks, whose GoogleTest and Google
# Benchmark macros expand into mutable globals, owning `new` and classes without the special
# members, which the cppcoreguidelines checks flag at every TEST and BENCHMARK.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
narrow=${2:-}
if [[ ! -f $build/compile_commands.json ]]; then
  if [[ $build != build/* ]]; then
    echo "tidy: no $build/compile_commands.json: configure that build first" >&2
    exit 2
  fi
  cmake --preset "${build#build/}" >/dev/null
fi

mapfile -t files < <(python3 - "$build/compile_commands.json" "$PWD" "$narrow" <<'PY'
import json, os, re, sys
database, root, narrow = sys.argv[1:4]
tidied = re.compile(r"(config|schedule|image|isolation|queue|runtime-api|engine|cli|client|bench/harness)/.*\.cpp$")
files = set()
for entry in json.load(open(database)):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    relative = os.path.relpath(path, root)
    if tidied.match(relative) and re.search(narrow, relative):
        files.add(relative)
print("\n".join(sorted(files)))
PY
)
((${#files[@]})) || { echo "tidy: no files match" >&2; exit 2; }

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
start=$SECONDS
# One log per file, printed whole at the end, so parallel diagnostics do not interleave.
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -I{} sh -c \
    'clang-tidy -p "$1" --quiet --warnings-as-errors="*" "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 ||
     echo "$2" >>"$3/failed"' _ "$build" {} "$logs"

if [[ -f $logs/failed ]]; then
  cat "$logs"/*.log
  echo "tidy: diagnostics in $(wc -l <"$logs/failed") of ${#files[@]} files" \
    "($((SECONDS - start)) s)" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files clean ($((SECONDS - start)) s)"
