#!/usr/bin/env bash
# Fails when a C++ source file is not clang-formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
((${#files[@]})) || exit 0
clang-format --dry-run -Werror "${files[@]}"
