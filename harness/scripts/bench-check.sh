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
# What it gates: the classifier epoch (784-500-10 on 3000 embedded digits, 3 timed epochs
# per run) on the naive and blas backends, blas on one thread (OpenBLAS's second thread on
# a shared 2-core machine adds scheduling noise and no code path). The toy net is not gated:
# its 0.3 us epoch moves by up to 60% between two copies of the same binary (code and data
# placement), far beyond any 5% threshold.
#
# GATE_BIN_A / GATE_BIN_B replace the two builds (used to measure the gate itself);
# GATE_PAIRS sets the ABBA rounds per stage (default 10).
# Exit: 0 pass (or skipped: no usable base), 1 regression confirmed, 2 broken setup.
set -uo pipefail
cd "$(dirname "$0")/../.."
base=${1:-HEAD~1}
pairs=${GATE_PAIRS:-10}
out=results/gate
rm -rf "$out" && mkdir -p "$out"

A=${GATE_BIN_A:-}
B=${GATE_BIN_B:-build/mlpbench}
if [ -z "$A" ]; then
  if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then
    echo "bench-check: no base revision '$base' (shallow clone or first commit): gate skipped"
    exit 0
  fi
  wt=$(mktemp -d /tmp/mlpbench-base-XXXXXX)
  trap 'git worktree remove --force "$wt" >/dev/null 2>&1; rm -rf "$wt"' EXIT
  git worktree add --detach -q "$wt" "$base" || exit 2
  if ! { cmake -S "$wt" -B "$wt/build" -DCMAKE_BUILD_TYPE=Release -DMLPBENCH_CUDA=OFF >/dev/null &&
    cmake --build "$wt/build" -j2 >/dev/null; }; then
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

stage() { # stage N: ABBA rounds, then compare; prints the table, returns compare's code
  local s=$1 i a="" b=""
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
    a="$a,$out/a-mnist-$s-$i.json"
    b="$b,$out/b-mnist-$s-$i.json"
  done
  "$B" compare --paired "${a#,}" "${b#,}" | tee "$out/compare-$s.md"
  return "${PIPESTATUS[0]}"
}

echo "bench-check: base $A vs new $B, $pairs ABBA rounds per stage"
stage 1
rc=$?
[ $rc = 0 ] && { echo "bench-check: pass"; exit 0; }
[ $rc = 1 ] || exit 2
echo "bench-check: regression flagged; confirming with a fresh interleaved round"
stage 2
rc2=$?
[ $rc2 = 1 ] || { [ $rc2 = 0 ] && echo "bench-check: not confirmed: pass" && exit 0; exit 2; }
flag() { grep 'REGRESSION' "$out/compare-$1.md" | cut -d'|' -f2,3 | sort; }
both=$(comm -12 <(flag 1) <(flag 2))
if [ -n "$both" ]; then
  echo "bench-check: REGRESSION confirmed in both stages:"
  echo "$both"
  exit 1
fi
echo "bench-check: flags differ between stages (noise): pass"
exit 0
