#!/usr/bin/env bash
# Runs every benchmark with repetitions and prints medians, then each one's
# ratios against its peer.
#   bench/run.sh            all of them (LibTorch's when built: minutes)
#   bench/run.sh <filter>   those whose name contains <filter>, e.g.
#   bench/run.sh torch      LibTorch side by side: throughput + RSS
#                           (nn_libtorch_bench), then accuracy parity
#                           (nn_libtorch_accuracy, several minutes)
# The binaries come from build/release/bench, or $EDGEPIPE_BENCH_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B="${EDGEPIPE_BENCH_DIR:-build/release/bench}"
[[ -d "$B" ]] || { echo "bench/run.sh: $B not found: build first (make build)" >&2; exit 1; }
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "$B"/*_bench "$B"/nn_libtorch_accuracy; do
  [[ -x "$b" ]] || continue
  [[ -n "${1:-}" && "$(basename "$b")" != *"$1"* ]] && continue
  echo "== $(basename "$b")"
  if [[ "$b" == *_bench ]]; then
    "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
         --benchmark_display_aggregates_only=true 2>&1 | grep -v '_mean\|_stddev\|_cv'
  else
    "$b"
  fi
done
echo "== done, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
