#!/usr/bin/env bash
# Runs every benchmark with repetitions and prints medians. Usage: bench/run.sh [filter]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=build/release/bench
for b in "$B"/*_bench; do
  [[ -n "${1:-}" && "$b" != *"$1"* ]] && continue
  echo "== $(basename "$b")"
  "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
       --benchmark_display_aggregates_only=true 2>&1 | grep -v '_mean\|_stddev\|_cv' 
done
