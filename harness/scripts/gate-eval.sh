#!/usr/bin/env bash
# gate-eval.sh [RUNS]: measures the regression gate itself, on real added work. Builds the
# working tree as it is (twice: two separate binaries for "unchanged") and with real
# redundant GEMM work planted in every step (-DMLPBENCH_PLANT_PCT=5, 10, 20: rows of the
# first product computed again, sized to add that share of a step's GEMM FLOPs), then runs
# the whole gate (bench-check.sh, both stages) RUNS times per case (default 20; the +5% and
# +20% cases half as often). Prints, per case and backend, how often the gate failed, the
# measured effect on the run medians, and the gate's time.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}
for v in 0 5 10 20; do
  cmake -S . -B "build-gate-$v" -DCMAKE_BUILD_TYPE=Release -DMLPBENCH_CUDA=OFF \
    -DMLPBENCH_PLANT_PCT=$v >/dev/null && cmake --build "build-gate-$v" -j2 --target mlpbench \
    >/dev/null || exit 2
  cp "build-gate-$v/mlpbench" "/tmp/mlpbench-gate-$v"
done
cp build-gate-0/mlpbench /tmp/mlpbench-gate-0b
printf '%-10s %-7s %-12s %-22s %s\n' case backend "gate failed" "effect (median ratio)" "seconds"
for v in 0b 5 10 20; do
  n=$runs
  [ "$v" = 5 ] || [ "$v" = 20 ] && n=$(((runs + 1) / 2))
  declare -A hit=() eff=()
  secs=0
  for i in $(seq 1 "$n"); do
    t=$(date +%s)
    GATE_BIN_A=/tmp/mlpbench-gate-0 GATE_BIN_B=/tmp/mlpbench-gate-$v \
      bash harness/scripts/bench-check.sh >"/tmp/gate-$v-$i.log" 2>&1
    rc=$?
    secs=$((secs + $(date +%s) - t))
    for be in naive blas; do
      e=$(grep -E "^\| mnist \| $be \|" results/gate/compare-1.md | cut -d'|' -f6 | tr -d ' %+')
      eff[$be]="${eff[$be]:-} $e"
      [ $rc = 1 ] && grep -A5 "confirmed in both" "/tmp/gate-$v-$i.log" | grep -q " $be" &&
        hit[$be]=$((${hit[$be]:-0} + 1))
    done
  done
  for be in naive blas; do
    med=$(tr ' ' '\n' <<<"${eff[$be]}" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    label=$([ "$v" = 0b ] && echo unchanged || echo "+$v% work")
    printf '%-10s %-7s %-12s %-22s %s\n' "$label" "$be" "${hit[$be]:-0} / $n" "median ${med}%" \
      "$((secs / n)) s per gate"
  done
  unset hit eff
done
