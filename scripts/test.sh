#!/usr/bin/env bash
# Installs, builds and runs every test (unit and end-to-end) with the release preset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check-format.sh
bash scripts/build.sh release
ctest --preset release -j 2
