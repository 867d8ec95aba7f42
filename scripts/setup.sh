#!/usr/bin/env bash
# Installs every Debian 12 package ember's build, tests and benchmarks need. Idempotent.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ clang pkg-config clang-format clang-tidy ccache
  # libFuzzer (libclang_rt.fuzzer) for clang's -fsanitize=fuzzer: scripts/fuzz.sh, tests/fuzz
  libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libyaml-cpp-dev libseccomp-dev libcurl4-openssl-dev libssl-dev libarchive-dev
  libsqlite3-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # real clients and runtimes used by the examples and tests
  python3 awscli python3-boto3 curl procps
  # promtool (`promtool check metrics`), which validates GET /metrics in tests/e2e/metrics_test.cpp
  prometheus
  # examples/thumbnails: Pillow, which sandboxes see through /usr (also checks the status
  # page's screenshot in tests/e2e/status_page_test.cpp)
  python3-pil
  # a real browser for the status page's test: headless Chromium loads GET / from a real node
  # and screenshots it; a font so that its text is drawn (recommends are not installed)
  chromium fonts-dejavu-core
  # container images without Docker, and the OCI runtimes of `isolation: oci`
  umoci skopeo busybox-static runc crun
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
