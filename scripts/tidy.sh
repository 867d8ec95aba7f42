#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy) over ember's C++ sources with a build's compile_commands.json,
# one process per core; fails on any diagnostic. Files found clean before, with nothing they
# depend on changed, are not tidied again (scripts/tidy.py says how that is decided).
#   bash scripts/tidy.sh [BUILD_DIR] [PATH_REGEX]
# BUILD_DIR defaults to build/release (configured with that preset when missing); PATH_REGEX
# narrows the files (e.g. 'engine/src/'). Tidied: what ships in `ember` and
# `ember-sandbox-init` (config, schedule, metrics, image, isolation, queue, runtime-api, engine, cli, and bench/harness, which is
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

exec python3 scripts/tidy.py "$build" "$narrow"
