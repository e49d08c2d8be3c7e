#!/usr/bin/env bash
# gate-eval.sh [RUNS]: measures the regression gate itself. Builds the working tree twice,
# once plain and once with a 10% injected slowdown (-DMLPBENCH_SLOWDOWN_PCT=10), then runs
# the full gate (bench-check.sh, both stages) RUNS times on unchanged code (false alarms)
# and RUNS times against the slowed build (power). Prints both rates.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}
for v in 0 10; do
  cmake -S . -B "build-gate-$v" -DCMAKE_BUILD_TYPE=Release -DMLPBENCH_CUDA=OFF \
    -DMLPBENCH_SLOWDOWN_PCT=$v >/dev/null && cmake --build "build-gate-$v" -j2 >/dev/null || exit 2
done
cp build-gate-0/mlpbench /tmp/mlpbench-gate-a
cp build-gate-0/mlpbench /tmp/mlpbench-gate-b
cp build-gate-10/mlpbench /tmp/mlpbench-gate-slow
fa=0 caught=0
for i in $(seq 1 "$runs"); do
  t=$(date +%s)
  GATE_BIN_A=/tmp/mlpbench-gate-a GATE_BIN_B=/tmp/mlpbench-gate-b \
    bash harness/scripts/bench-check.sh >"/tmp/gate-same-$i.log" 2>&1
  r1=$?
  GATE_BIN_A=/tmp/mlpbench-gate-a GATE_BIN_B=/tmp/mlpbench-gate-slow \
    bash harness/scripts/bench-check.sh >"/tmp/gate-slow-$i.log" 2>&1
  r2=$?
  [ $r1 = 1 ] && fa=$((fa + 1))
  [ $r2 = 1 ] && caught=$((caught + 1))
  echo "run $i: unchanged -> exit $r1, 10% slower -> exit $r2 ($(($(date +%s) - t)) s)"
done
echo "false alarms: $fa / $runs on unchanged code; caught: $caught / $runs with a 10% slowdown"
