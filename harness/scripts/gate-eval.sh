#!/usr/bin/env bash
# gate-eval.sh [RUNS]: measures the regression gate itself, on real added work. Builds the
# working tree as it is and with real redundant GEMM work planted in every step
# (-DMLPBENCH_PLANT_PCT=5, 10, 20: rows of the first product computed again, sized to add
# that share of a step's GEMM FLOPs), then runs the whole gate (bench-check.sh, every stage)
# RUNS times per case (default 20; the +5% and +20% cases half as often). "unchanged" is the
# same build as two binaries. Prints, per case and backend, how often the gate failed (exit 1
# naming the backend) and how often it gave no verdict (exit 2: rows the load left
# impossible to judge), the measured effect on the run medians, and the gate's time; and one
# line per gate with its exit code and /proc/loadavg before and after.
#
# GATE_CASES: the cases to run, from "0b 5 10 20" (0b is unchanged), e.g. GATE_CASES="0b 10".
# GATE_LOAD=N: N busy loops (one `while :; do :; done` shell each) run beside every gate, the
# load of issue 24 (one per core); they are stopped when the evaluation ends.
# GATE_KEEP=DIR: each gate's runs, tables and log kept in DIR/CASE-N (to judge them again).
# GATE_METRIC (bench-check's): the clock the gate judges, cpu (default) or wall.
# GATE_UNTIL=TIME (anything `date -d` reads): no gate starts after it; the summary covers the
# gates that ran. The cases take turns gate by gate, so a cut-short evaluation stays even.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}
cases=${GATE_CASES:-0b 5 10 20}
tmp=$(mktemp -d /tmp/mlpbench-gate-eval-XXXXXX)
load_pids=()
cleanup() {
  local p
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
for v in 0 $cases; do
  [ "$v" = 0b ] && continue
  [ -x "$tmp/mlpbench-gate-$v" ] && continue
  cmake -S . -B "build-gate-$v" -DCMAKE_BUILD_TYPE=Release -DMLPBENCH_CUDA=OFF \
    -DMLPBENCH_PLANT_PCT=$v >/dev/null && cmake --build "build-gate-$v" -j2 --target mlpbench \
    >/dev/null || exit 2
  cp "build-gate-$v/mlpbench" "$tmp/mlpbench-gate-$v"
done
cp build-gate-0/mlpbench "$tmp/mlpbench-gate-0b"
# the gate as it is now: a script edited while the evaluation runs changes no gate under way
cp harness/scripts/bench-check.sh "$tmp/bench-check.sh"
for i in $(seq 1 "${GATE_LOAD:-0}"); do
  sh -c 'while :; do :; done' &
  load_pids+=($!)
done
echo "gate-eval: $(nproc) cores, ${GATE_LOAD:-0} busy loop(s), metric ${GATE_METRIC:-cpu}, commit $(git rev-parse --short HEAD)$(
  git diff --quiet HEAD || echo ' (with local changes)'), $(date -u '+%F %T UTC')"
# the cases take turns, gate by gate, so a phase of the machine (other jobs starting and
# stopping) falls on every case alike
declare -A hit=() eff=() nover=() secs=() count=()
for i in $(seq 1 "$runs"); do
  for v in $cases; do
    n=$runs
    [ "$v" = 5 ] || [ "$v" = 20 ] && n=$(((runs + 1) / 2))
    [ "$i" -le "$n" ] || continue
    if [ -n "${GATE_UNTIL:-}" ] && [ "$(date +%s)" -ge "$(date -d "$GATE_UNTIL" +%s)" ]; then
      echo "  (GATE_UNTIL $GATE_UNTIL reached: no more gates)"
      break 2
    fi
    label=$([ "$v" = 0b ] && echo unchanged || echo "+$v% work")
    t=$(date +%s)
    l0=$(cut -d' ' -f1-4 /proc/loadavg)
    GATE_BIN_A=$tmp/mlpbench-gate-0 GATE_BIN_B=$tmp/mlpbench-gate-$v \
      GATE_ROOT=$PWD bash "$tmp/bench-check.sh" >"$tmp/gate-$v-$i.log" 2>&1
    rc=$?
    dt=$(($(date +%s) - t))
    if [ -n "${GATE_KEEP:-}" ]; then
      mkdir -p "$GATE_KEEP/$v-$i" && cp -r results/gate/. "$tmp/gate-$v-$i.log" "$GATE_KEEP/$v-$i/"
    fi
    secs[$v]=$((${secs[$v]:-0} + dt))
    count[$v]=$((${count[$v]:-0} + 1))
    [ $rc = 2 ] && nover[$v]=$((${nover[$v]:-0} + 1))
    stages=$(grep -c "ABBA rounds\|adding .* more\|confirming with" "$tmp/gate-$v-$i.log")
    e1=""
    for be in naive blas; do
      # the verdict table's row (the memory table below it has rows of the same shape)
      e=$(grep -E "^\| mnist \| $be \|" results/gate/compare-1.md | head -1 | cut -d'|' -f6 | tr -d ' %+')
      e1="$e1 $be ${e}%"
      eff[$v,$be]="${eff[$v,$be]:-} $e"
      [ $rc = 1 ] && grep -A5 "confirmed in both" "$tmp/gate-$v-$i.log" | grep -q " $be" &&
        hit[$v,$be]=$((${hit[$v,$be]:-0} + 1))
    done
    echo "  $label gate $i: exit $rc, $stages stage(s), ${dt} s, stage-1 effect$e1, loadavg $l0 -> $(cut -d' ' -f1-4 /proc/loadavg)"
    grep -E "^bench-check: (NO VERDICT|REGRESSION confirmed|not confirmed|pass)" -A2 \
      "$tmp/gate-$v-$i.log" | grep -v '^--' | sed 's/^/    /'
  done
done
summary=""
for v in $cases; do
  label=$([ "$v" = 0b ] && echo unchanged || echo "+$v% work")
  n=${count[$v]:-0}
  [ "$n" -gt 0 ] || continue
  for be in naive blas; do
    med=$(tr ' ' '\n' <<<"${eff[$v,$be]:-}" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    summary+=$(printf '%-10s %-7s %-12s %-14s %-22s %s' "$label" "$be" "${hit[$v,$be]:-0} / $n" \
      "${nover[$v]:-0} / $n" "median ${med}%" "$((${secs[$v]} / n)) s per gate")$'\n'
  done
done
printf '\n%-10s %-7s %-12s %-14s %-22s %s\n' case backend "gate failed" "no verdict" \
  "effect (median ratio)" "seconds"
printf '%s' "$summary"
