#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 10) from its seeds in tests/fuzz/corpus/TARGET; fails on the first
# crash, leak, sanitizer report or timeout. Usage: scripts/fuzz.sh [TARGET...] (default: all).
# New inputs go to a scratch corpus under build/fuzz, never into the tree; a crashing input
# is kept as build/fuzz/artifacts/TARGET-crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-10}
bash scripts/build.sh fuzz  # ccache, as every preset
bin=build/fuzz/tests/fuzz
targets=("$@")
if ((${#targets[@]} == 0)); then
  for corpus in tests/fuzz/corpus/*/; do targets+=("$(basename "$corpus")"); done
fi
mkdir -p build/fuzz/artifacts
for target in "${targets[@]}"; do
  scratch=build/fuzz/scratch/$target
  rm -rf "$scratch" && mkdir -p "$scratch"
  log=build/fuzz/artifacts/$target.log
  # -timeout: one input taking 10 s is a hang; the outer timeout bounds a stuck run.
  if ! timeout $((seconds + 60)) "$bin/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$target-" \
      "$scratch" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED (log: $log)" >&2
    exit 1
  fi
  # libFuzzer's last status line: executions, coverage (cov: edges, ft: features), corpus.
  echo "fuzz: $target: $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
done
echo "fuzz: ${#targets[@]} targets passed, ${seconds} s each"
