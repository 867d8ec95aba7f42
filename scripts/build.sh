#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
# ccache (scripts/setup.sh installs it) keeps rebuilds of unchanged sources cheap across builds,
# clones and worktrees: paths under the checkout are hashed relative to it, and the build
# directory is left out of the hash, so a CI clone reuses what an earlier clone compiled.
launcher=()
if command -v ccache >/dev/null; then
  ccache="/usr/bin/env;CCACHE_BASEDIR=$PWD;CCACHE_NOHASHDIR=1;ccache"
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER="$ccache" -DCMAKE_CXX_COMPILER_LAUNCHER="$ccache")
fi
cmake --preset "$preset" "${launcher[@]}" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
