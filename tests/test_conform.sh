#!/usr/bin/env bash
# test_conform.sh MLPBENCH DIR: `mlpbench conform` passes the built-in backends and a good
# plugin, fails planted bugs with a repro line that fails again on its own, and survives a
# plugin that crashes or hangs (DIR holds tests/plugins/fixture.c's builds).
set -u
bin=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
n_checks=$("$bin" conform --help | sed -n '/^checks:/,$p' | grep -cE '^  [a-z0-9-]+$')

"$bin" conform >"$tmp/out" 2>&1
check "conform passes every available built-in backend (exit 0)" test $? = 0
check "... no line FAILED" bash -c "! grep -q ' FAILED ' '$tmp/out'"
check "... naive has a line per check" test "$(grep -c '^naive ' "$tmp/out")" = "$n_checks"
check "... naive passes the loss-curve check" grep -qE '^naive +train-curve +PASSED' "$tmp/out"
check "... determinism is reported as a property" grep -qE '^naive +determinism +PASSED +property: ' "$tmp/out"
check "... the CPU backends pass the resident checks" \
  grep -qE '^naive +resident +PASSED' "$tmp/out"
check "... the summary line" grep -qE '^conform: [0-9]+ passed, 0 failed' "$tmp/out"
if grep -q '^cuda-emu ' "$tmp/out"; then
  check "... the emulated CUDA build passes the resident checks" \
    grep -qE '^cuda-emu +resident +PASSED' "$tmp/out"
fi

"$bin" conform --backend-lib "$dir/plug_good.so" --backend fixture >"$tmp/out" 2>&1
check "a good plugin passes" test $? = 0
check "... an absent optional slot is NOT SUPPORTED" grep -qE '^fixture +resident +NOT SUPPORTED' "$tmp/out"

# planted BUG CHECK REGEX: exit 1, a FAILED line for CHECK matching REGEX, and its repro
# command fails the same way alone
planted() {
  "$bin" conform --backend-lib "$dir/plug_$1.so" --backend "$1" >"$tmp/out" 2>&1
  local rc=$? line
  line=$(grep -E "^$1 +$2 +FAILED " "$tmp/out") || { echo "no FAILED $2"; cat "$tmp/out"; return 1; }
  [ "$rc" = 1 ] && grep -qE "$3" <<<"$line" || { echo "rc=$rc: $line"; return 1; }
  local repro=${line##*; repro: mlpbench }
  eval "\"\$bin\" $repro" >"$tmp/repro" 2>&1
  rc=$?
  [ "$rc" = 1 ] && [ "$(grep -c FAILED "$tmp/repro")" = 1 ] || { echo "repro rc=$rc"; cat "$tmp/repro"; return 1; }
}
check "a dropped bias gradient fails, named, with a repro" planted nobias grad-odd-sizes "b1 gradient"
check "ignoring zero_grads fails, with a repro" planted nozero zero-grads "only the second's"
check "Adam's bias correction one step off fails, with a repro" \
  planted adambc adam-steps-se "Adam step 1: .*bias correction"
check "... and the loss curve catches it" grep -qE '^adambc +train-curve +FAILED' "$tmp/out"
check "... while its gradients pass" grep -qE '^adambc +grad-odd-sizes +PASSED' "$tmp/out"
planted nozero zero-grads "only the second's" >/dev/null
check "ignoring zero_grads: the loss curve catches it too" grep -qE '^nozero +train-curve +FAILED' "$tmp/out"

# under AddressSanitizer the SIGSEGV would become ASan's report and exit 1: let it through
ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0" \
  "$bin" conform --backend-lib "$dir/plug_crash.so" --backend crash,naive >"$tmp/out" 2>&1
check "a crashing plugin: conform exits 1" test $? = 1
check "... the signal is reported on the check it died in" \
  grep -qE '^crash +grad-batch1 +FAILED +the child died of signal 11' "$tmp/out"
check "... later checks still run (in a fresh child)" grep -qE '^crash +gemm-floor +PASSED' "$tmp/out"
check "... and the next backend is checked" grep -qE '^naive +train-curve +PASSED' "$tmp/out"

"$bin" conform --backend-lib "$dir/plug_hang.so" --backend hang --time-limit 2 >"$tmp/out" 2>&1
check "a hanging plugin: conform exits 1" test $? = 1
check "... the timeout is reported" grep -qE '^hang +grad-batch1 +FAILED +timed out after 2 s' "$tmp/out"
check "... the rest is SKIPPED, not waited for" grep -qE '^hang +gemm-floor +SKIPPED' "$tmp/out"

"$bin" conform --backend naive --check grad-hidden4096 >"$tmp/out" 2>&1
check "--check runs one check" test "$(grep -c '^naive ' "$tmp/out")" = 1
"$bin" conform --check nosuch >/dev/null 2>&1
check "an unknown check is a usage error" test $? = 2
"$bin" conform --backend nosuch >/dev/null 2>&1
check "an unknown backend is a usage error" test $? = 2
finish
