#!/usr/bin/env bash
# Installs, builds and runs every test (unit and end-to-end) with the release preset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check-format.sh
bash scripts/build.sh release
# The realistic image of the end-to-end tests (Debian, Node.js, aws-lambda-ric; about 8 min the
# first time, then cached outside the tree; examples/images/README.md).
if [[ $(id -u) -eq 0 ]]; then
  bash examples/images/build-node-image.sh "${EMBER_NODE_IMAGE_DIR:-/var/cache/ember/images/node}"
fi
ctest --preset release -j 2
