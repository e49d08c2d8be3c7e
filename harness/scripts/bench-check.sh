#!/usr/bin/env bash
# bench-check.sh [BASE_REV]: the regression gate (make bench-check).
#
# Shared machines drift by up to 2x between phases of one job, so results from another
# job or another day cannot be compared. The gate builds BASE_REV (default HEAD~1: the main
# this change lands on) and the working tree, then runs both in the same job, interleaved
# in ABBA order: round i runs A and B back to back, so a slow phase hits both runs of a
# round. Each run is one process; the unit is the pair of a round: `mlpbench compare
# --paired` takes the log ratio of the two run medians (drift common to the pair cancels),
# flags a backend when the Wilcoxon signed-rank test gives p < 0.05 AND the median ratio is
# more than 5% slower. A flag is confirmed by a second, fresh interleaved stage; the gate
# fails only if the same backend is flagged twice.
#
# Under load the gate says when it cannot judge, never a silent pass. compare --paired calls
# a row inconclusive when its pairs' spread cannot rule out a slowdown of twice the minimum
# effect (the 95% interval of the median ratio reaches past +10%); on wall time it drops
# pairs with a run marked disturbed (too few left: "not judged: machine busy"), on CPU time
# it keeps and counts them (CPU time does not hold the wait that marked them). Such rows get
# as many rounds
# again, judged on both stages' pairs; a row still unjudged, or a flag whose confirming stage
# could not judge it, ends the gate with exit 2 (NO VERDICT) naming the rows.
#
# The clock it judges (GATE_METRIC, default cpu): each run's per-epoch CPU time, not its wall
# time. Every gated run is single-threaded (naive, and blas on one thread), so its CPU time is
# the work done, and a planted +10% of GEMM work moves it by as much as it moves the wall time
# of a quiet machine. Under load the wall time also holds the time the run waited for a core:
# with one busy loop per core and other jobs (load average 10-18 on 2 cores), the wall-time
# ratios of the two runs of a round spread from 0.5 to 1.9, their CPU-time ratios by a few
# percent (results/reference/gate-eval-load.txt). What CPU time cannot see: a change that only makes a
# run wait (sleeps, locks, I/O), which these in-memory loops do not do. GATE_METRIC=wall
# gates the wall time as before; stage 1's wall-time table is printed beside the verdict.
#
# What it gates: the classifier epoch (784-500-10 on 3000 embedded digits, 3 timed epochs
# per run) on the naive and blas backends, blas on one thread (OpenBLAS's second thread on
# a shared 2-core machine adds scheduling noise and no code path). The toy net is not gated:
# its 0.3 us epoch moves by up to 60% between two copies of the same binary (code and data
# placement), far beyond any 5% threshold.
#
# GATE_BIN_A / GATE_BIN_B replace the two builds (used to measure the gate itself);
# GATE_PAIRS sets the ABBA rounds per stage (default 10); GATE_OUT the folder of its runs and
# tables (default results/gate, emptied first); GATE_ROOT the repository (default: the one
# holding this script; gate-eval.sh runs a copy).
# Exit: 0 pass (or skipped: no usable base), 1 regression confirmed, 2 broken setup or no
# verdict (rows the load left impossible to judge).
set -uo pipefail
cd "${GATE_ROOT:-$(dirname "$0")/../..}" || exit 2
base=${1:-HEAD~1}
pairs=${GATE_PAIRS:-10}
metric=${GATE_METRIC:-cpu}
out=${GATE_OUT:-results/gate}
rm -rf "$out" && mkdir -p "$out"

A=${GATE_BIN_A:-}
B=${GATE_BIN_B:-}
# Both sides are built the same way, here and now: C only (no CUDA), Release. The user's
# build/ links cuBLAS, and a different set of libraries once moved where malloc placed the
# model's buffers, enough to make one binary 8% slower than the same code built without
# (results/reference/alignment.md): a gate that compares two builds must not also compare two
# configurations.
gate_build() { # gate_build SRC DIR
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DMLPBENCH_CUDA=OFF >/dev/null &&
    cmake --build "$2" -j2 --target mlpbench >/dev/null
}
if [ -z "$B" ]; then
  B=build-gate/mlpbench
  gate_build . build-gate || { echo "bench-check: the working tree does not build (build-gate/)"; exit 2; }
fi
if [ -z "$A" ]; then
  if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then
    echo "bench-check: no base revision '$base' (shallow clone or first commit): gate skipped"
    exit 0
  fi
  wt=$(mktemp -d /tmp/mlpbench-base-XXXXXX)
  trap 'git worktree remove --force "$wt" >/dev/null 2>&1; rm -rf "$wt"' EXIT
  git worktree add --detach -q "$wt" "$base" || exit 2
  if ! gate_build "$wt" "$wt/build"; then
    echo "bench-check: the base revision $base does not build here: gate skipped"
    exit 0
  fi
  A=$wt/build/mlpbench
fi
[ -x "$B" ] || { echo "bench-check: $B not built (run make first)"; exit 2; }

# One side's run: the classifier on 3000 digits, 3 timed epochs per backend, in a fresh
# process whose environment size varies from run to run (bench --processes's mechanism:
# memory placement changes, so no one layout favours one side).
run_side() { # run_side BIN TAG ROUND
  MLPB_PLACEMENT=$(head -c $((RANDOM % 4096)) /dev/zero | tr '\0' x) "$1" bench --workload mnist --limit 3000 --epochs 4 --backend naive,blas --threads 1 --quiet \
    --results "$out/$2-mnist-$3.json" >/dev/null 2>>"$out/log"
}

declare -A fa=() fb=()
rounds() { # rounds S: the ABBA rounds of stage S; their files into fa[S] and fb[S]
  local s=$1 i
  fa[$s]="" fb[$s]=""
  for i in $(seq 1 "$pairs"); do
    if [ $((i % 2)) = 1 ]; then
      run_side "$A" a "$s-$i" && run_side "$B" b "$s-$i"
    else
      run_side "$B" b "$s-$i" && run_side "$A" a "$s-$i"
    fi
    if [ $? != 0 ]; then
      if [ -z "${GATE_BIN_A:-}" ] && ! "$A" bench --help 2>/dev/null | grep -q -- --threads; then
        echo "bench-check: the base build cannot write results files: gate skipped"
        exit 0
      fi
      echo "bench-check: a benchmark run failed (see $out/log)"
      exit 2
    fi
    fa[$s]="${fa[$s]:+${fa[$s]},}$out/a-mnist-$s-$i.json"
    fb[$s]="${fb[$s]:+${fb[$s]},}$out/b-mnist-$s-$i.json"
  done
}

# judge TAG BASE_LIST NEW_LIST: compare --paired, its table into compare-TAG.md; returns
# compare's code. Its exit 2 is a verdict only when rows say they could not be judged;
# otherwise the input was unusable and the gate stops.
judge() {
  "$B" compare --paired --metric "$metric" "$2" "$3" | tee "$out/compare-$1.md"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" = 2 ] && ! grep -qE '\| (inconclusive|not judged)' "$out/compare-$1.md"; then
    echo "bench-check: compare could not read the runs (see above)"
    exit 2
  fi
  return "$rc"
}
rows() { grep -E "\| ($2)" "$out/compare-$1.md" | cut -d'|' -f2,3 | sort; } # rows TAG VERDICTS

echo "bench-check: base $A vs new $B, $pairs ABBA rounds per stage, judged on $metric time"
rounds 1
judge 1 "${fa[1]}" "${fb[1]}"
rc=$? tag=1 next=2
if [ "$metric" = cpu ]; then # the wall clock beside it, for the reader: not gated
  echo "bench-check: stage 1 on wall time, for information (not gated):"
  "$B" compare --paired --allow-inconclusive "${fa[1]}" "${fb[1]}" 2>&1 | grep -E '^\| mnist \| [^|]+ \| [0-9.]+ (us|ms|s) \|' |
    tee "$out/compare-1-wall.md"
fi
if [ $rc = 2 ]; then
  # rows the pairs could not judge (their spread too wide, or runs disturbed): as many rounds
  # again, judged on both stages' pairs together
  echo "bench-check: some rows could not be judged after $pairs rounds; adding $pairs more"
  rounds 2
  judge 12 "${fa[1]},${fa[2]}" "${fb[1]},${fb[2]}"
  rc=$? tag=12 next=3
fi
unjudged=$(rows $tag 'inconclusive|not judged')
if [ $rc = 1 ]; then
  flagged=$(rows $tag '\*\*REGRESSION')
  echo "bench-check: regression flagged; confirming with a fresh interleaved stage"
  rounds $next
  judge c "${fa[$next]}" "${fb[$next]}"
  both=$(comm -12 <(echo "$flagged") <(rows c '\*\*REGRESSION'))
  if [ -n "$both" ]; then
    echo "bench-check: REGRESSION confirmed in both stages:"
    echo "$both"
    exit 1
  fi
  # a flag the fresh stage could not judge is neither confirmed nor cleared
  unjudged=$(printf '%s\n%s\n' "$unjudged" "$(comm -12 <(echo "$flagged") \
    <(rows c 'inconclusive|not judged'))" | grep . | sort -u)
  [ -z "$unjudged" ] && echo "bench-check: not confirmed (noise): pass" && exit 0
fi
if [ -n "$unjudged" ]; then
  echo "bench-check: NO VERDICT: the machine's load left these rows impossible to judge (rerun on a quieter machine):"
  echo "$unjudged"
  exit 2
fi
echo "bench-check: pass"
exit 0
