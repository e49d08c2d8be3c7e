#!/usr/bin/env bash
# test_wait_policy.sh MLPBENCH: the threads' wait policy is set inside mlpbench, not in the
# user's shell (issue 24 part 2). On OpenBLAS's OpenMP build, idle threads that spin make a
# busy machine's fork-joins wait for time slices, so mlpbench re-runs itself with the
# backend's policy set before libgomp loads: the results' context and the table say what
# ran and who chose it, peers inherit it, and a policy the user set is kept untouched.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
if ! "$bin" list 2>/dev/null | grep -q "USE_OPENMP"; then
  echo "skipped: blas is not built on OpenBLAS's OpenMP build here (no thread runtime to set)"
  exit 77
fi
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -1; }
# a stand-in python: it "imports numpy", and as the numpy peer records the wait variables its
# environment holds, then says it cannot run here (77: the peer is skipped, bench goes on)
cat >"$tmp/py" <<'SH'
#!/bin/sh
[ "$1" = -c ] && exit 0
env | grep -E '^(OMP_WAIT_POLICY|GOMP_SPINCOUNT)=' | sort >"$MLPB_PEER_ENV"
exit 77
SH
chmod +x "$tmp/py"
run() { # run TAG [VAR=VALUE...] -- [bench options]: bench with only the given wait variables
  local tag=$1
  shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u MLPBENCH_REEXEC -u MLPBENCH_WAIT_SET \
    "${envs[@]}" MLPBENCH_PYTHON="$tmp/py" MLPB_PEER_ENV="$tmp/$tag.peer" \
    "$bin" bench --workload toy --epochs 200 --backend blas --peers numpy --results "$tmp/$tag.json" \
    "$@" >"$tmp/$tag.out" 2>&1
}

run own --
p=$(field thread_wait_policy "$tmp/own.json")
set_var=${p%% *}
check "no user setting: mlpbench sets its policy and says so ('$p')" \
  bash -c '[[ "$0" =~ ^[A-Z_]+=[a-z0-9]+\ \(set\ by\ mlpbench\)$ ]]' "$p"
check "no user setting: the table says so" grep -q "^Idle threads wait: $p\$" "$tmp/own.out"
check "no user setting: the re-run is silent (it is every run's path)" \
  bash -c '! grep -q "re-running" "$0"' "$tmp/own.out"
check "no user setting: the peer got the same policy ($(cat "$tmp/own.peer" 2>/dev/null))" \
  bash -c '[ -n "$1" ] && [ "$(cat "$0")" = "$1" ]' "$tmp/own.peer" "$set_var"

run spin GOMP_SPINCOUNT=12345 --
p=$(field thread_wait_policy "$tmp/spin.json")
check "the user's GOMP_SPINCOUNT wins and is recorded as theirs ('$p')" \
  [ "$p" = "GOMP_SPINCOUNT=12345 (the user's)" ]
check "the user's GOMP_SPINCOUNT reaches the peer unchanged" \
  bash -c '[ "$(cat "$0")" = GOMP_SPINCOUNT=12345 ]' "$tmp/spin.peer"

run passive OMP_WAIT_POLICY=passive --
p=$(field thread_wait_policy "$tmp/passive.json")
check "the user's OMP_WAIT_POLICY wins: nothing added beside it ('$p')" \
  [ "$p" = "OMP_WAIT_POLICY=passive (the user's)" ]
check "the peer got the user's OMP_WAIT_POLICY and no spin count of mlpbench's" \
  bash -c '[ "$(cat "$0")" = OMP_WAIT_POLICY=passive ]' "$tmp/passive.peer"

# --processes: the children inherit the re-run's environment; the run records the policy
run procs -- --processes 2
p=$(field thread_wait_policy "$tmp/procs.json")
check "bench --processes records the same policy ('$p')" \
  [ "$p" = "$(field thread_wait_policy "$tmp/own.json")" ]
finish
