#!/usr/bin/env bash
# test_conform.sh MLPBENCH DIR: `mlpbench conform` passes the built-in backends and a good
# plugin, fails planted bugs with a repro line that fails again on its own, and survives a
# plugin that crashes or hangs (DIR holds tests/plugins/fixture.c's builds).
set -u
bin=$1
dir=$2
tmp=$(mktemp -d)
# whatever a fixture left running (the old conform left children behind) is ended here
trap 'for p in $(cat "$tmp"/pids* 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
n_checks=$("$bin" conform --help | sed -n '/^checks:/,$p' | grep -cE '^  [a-z0-9-]+$')

"$bin" conform >"$tmp/out" 2>&1
check "conform passes every available built-in backend (exit 0)" test $? = 0
check "... no line FAILED" bash -c "! grep -q ' FAILED ' '$tmp/out'"
check "... naive has a line per check with FTZ on" test "$(grep -c '^naive  ' "$tmp/out")" = "$n_checks"
check "... and one per check with FTZ off" test "$(grep -c '^naive no-ftz ' "$tmp/out")" = "$n_checks"
check "... naive passes the loss-curve check" grep -qE '^naive +train-curve +PASSED' "$tmp/out"
check "... determinism is reported as a property" grep -qE '^naive +determinism +PASSED +property: ' "$tmp/out"
check "... the CPU backends pass the resident checks" \
  grep -qE '^naive +resident +PASSED' "$tmp/out"
check "... the summary line" grep -qE '^conform: [0-9]+ passed, 0 failed' "$tmp/out"
if grep -q '^cuda-emu ' "$tmp/out"; then
  check "... the emulated CUDA build passes the resident checks" \
    grep -qE '^cuda-emu +resident +PASSED' "$tmp/out"
fi

"$bin" conform --help >"$tmp/help" 2>&1
check "conform --help says one thing of emulated backends: included" \
  bash -c "grep -q 'emulated ones included' '$tmp/help' && ! grep -q 'excepted' '$tmp/help'"

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
check "a dropped bias gradient fails, named, with a repro" \
  planted nobias grad-odd-sizes "one batch: b1 1\.00e\+00 > 1e-05 \(relative L2 error"
check "... only the tensor that is wrong is named" \
  bash -c "! grep -qE '^nobias +grad-odd-sizes +FAILED .*(W1|W2|b2) [0-9]' '$tmp/out'"
check "two wrong tensors: the FAILED line shows the shape and names both" \
  planted oddbatch grad-odd-sizes \
  "FAILED +13-17-10 relu softmax-CE, batch 33: one batch: W1 1\.00e-02 > 1e-05, W2 1\.00e-02 > 1e-05 "
check "the reference's own check uses gradcheck's bounded finite differences" \
  grep -qE '^oddbatch +reference-fd +PASSED +[0-9]+ entries within their finite-difference bounds' \
  "$tmp/out"
check "ignoring zero_grads fails, with a repro" planted nozero zero-grads "only the second's"
check "Adam's bias correction one step off fails, with a repro" \
  planted adambc adam-steps-se "Adam step 1: the update's relative L2 error"
check "... no guess at the cause" bash -c "! grep -q 'bias correction, moments' '$tmp/out'"
check "a FAILED line shows the check's shape" \
  grep -qE '^adambc +adam-steps-se +FAILED +6-11-10 sigmoid sigmoid-SE, batch 5: Adam step 1' "$tmp/out"
check "... and the loss curve catches it" grep -qE '^adambc +train-curve +FAILED' "$tmp/out"
check "... while its gradients pass" grep -qE '^adambc +grad-odd-sizes +PASSED' "$tmp/out"
planted nozero zero-grads "only the second's" >/dev/null
check "ignoring zero_grads: the loss curve catches it too" grep -qE '^nozero +train-curve +FAILED' "$tmp/out"

# under AddressSanitizer the SIGSEGV would become ASan's report and exit 1: let it through
ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0" \
  "$bin" conform --backend-lib "$dir/plug_crash.so" --backend crash,naive >"$tmp/out" 2>&1
check "a crashing plugin: conform exits 1" test $? = 1
check "... the signal is reported on the check it died in" \
  grep -qE '^crash +grad-batch1 +FAILED +the child crashed: signal 11' "$tmp/out"
check "... later checks still run (in a fresh child)" grep -qE '^crash +gemm-floor +PASSED' "$tmp/out"
check "... and the next backend is checked" grep -qE '^naive +train-curve +PASSED' "$tmp/out"

"$bin" conform --backend-lib "$dir/plug_hang.so" --backend hang --time-limit 2 >"$tmp/out" 2>&1
check "a hanging plugin: conform exits 1" test $? = 1
check "... the timeout is reported" grep -qE '^hang +grad-batch1 +FAILED +timed out after 2 s' "$tmp/out"
check "... the rest is SKIPPED, not waited for" grep -qE '^hang +gemm-floor +SKIPPED' "$tmp/out"

"$bin" conform --backend naive --check grad-hidden4096 >"$tmp/out" 2>&1
check "--check runs one check (FTZ on and off)" test "$(grep -c '^naive ' "$tmp/out")" = 2
"$bin" conform --check nosuch >/dev/null 2>&1
check "an unknown check is a usage error" test $? = 2
"$bin" conform --backend nosuch >/dev/null 2>&1
check "an unknown backend is a usage error" test $? = 2

# ---- issue 26 §1: plugins that attack conform itself ----
# a process listed in FILE still running (a zombie is dead: it only waits to be reaped)
none_alive() {
  local p st
  [ -s "$1" ] || { echo "no pid was recorded in $1"; return 1; }
  for p in $(cat "$1"); do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
    [ -n "$st" ] && [ "$st" != Z ] && { echo "pid $p still running ($st)"; return 1; }
  done
  return 0
}

ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0" timeout 60 \
  "$bin" conform --backend-lib "$dir/plug_ctorcrash.so" --backend ctorcrash >"$tmp/out" 2>&1
check "a plugin whose constructor crashes: conform exits 1" test $? = 1
check "... FAILED on loading, with the signal" \
  grep -qE '^plug_ctorcrash.so +load +FAILED +the child crashed: signal 11 .*while loading' "$tmp/out"

timeout 60 "$bin" conform --backend-lib "$dir/plug_entryexit.so" --backend entryexit >"$tmp/out" 2>&1
check "a plugin whose entry calls exit(0): conform exits 1, not 0" test $? = 1
check "... FAILED: exited while loading" \
  grep -qE '^plug_entryexit.so +load +FAILED +the child exited \(status 0\) while loading' "$tmp/out"

start=$SECONDS
timeout 60 "$bin" conform --backend-lib "$dir/plug_availhang.so" --backend availhang --time-limit 2 \
  >"$tmp/out" 2>&1
check "a plugin that hangs in available(): conform exits 1" test $? = 1
check "... FAILED: timed out while loading" \
  grep -qE '^plug_availhang.so +load +FAILED +timed out after 2 s while loading' "$tmp/out"
check "... within the time limit (not waited for)" test $((SECONDS - start)) -lt 15

timeout 120 "$bin" conform --backend-lib "$dir/plug_prints.so" --backend prints >"$tmp/out" 2>"$tmp/err"
check "a plugin printing report-shaped text ('@check determinism', 'iter 3 FAILED'): exit 0" test $? = 0
check "... every check PASSED or NOT SUPPORTED, none FAILED" \
  grep -qE '^conform: [0-9]+ passed, 0 failed, [0-9]+ not supported, 0 skipped' "$tmp/out"
check "... one line per check and FTZ setting" test "$(grep -c '^prints ' "$tmp/out")" = $((2 * n_checks))
check "... what it printed went to stderr" grep -q '^iter 3 FAILED' "$tmp/err"

MLPB_FIXTURE_PIDFILE="$tmp/pids.helper" timeout 60 \
  "$bin" conform --backend-lib "$dir/plug_helper.so" --backend helper --check grad-batch1 \
  --time-limit 20 >"$tmp/out" 2>&1
check "a plugin whose helper keeps stdout and every descriptor open: exit 0" test $? = 0
check "... PASSED, not timed out" test "$(grep -cE '^helper( no-ftz)? +grad-batch1 +PASSED' "$tmp/out")" = 2
check "... and the helper is stopped with its child" none_alive "$tmp/pids.helper"

MLPB_FIXTURE_MARK="$tmp/mark" timeout 120 \
  "$bin" conform --backend-lib "$dir/plug_once.so" --backend once >"$tmp/out" 2>&1
check "a plugin the children cannot load (replaced after the first load): exit 1" test $? = 1
check "... every check FAILED with the reason, none silently missing" \
  test "$(grep -cE '^once( no-ftz)? +[a-z0-9-]+ +FAILED +the child could not load the backend: ' "$tmp/out")" \
  = $((2 * n_checks))

MLPB_FIXTURE_PIDFILE="$tmp/pids.term" "$bin" conform --backend-lib "$dir/plug_hang.so" --backend hang \
  --time-limit 60 >"$tmp/out" 2>&1 &
cpid=$!
for _ in $(seq 200); do [ -s "$tmp/pids.term" ] && break; sleep 0.05; done
sleep 0.5 # into forward_backward's hang
kill -TERM $cpid
wait $cpid
check "SIGTERM to conform: it exits 143" test $? = 143
sleep 0.2
check "... and leaves no child running" none_alive "$tmp/pids.term"

timeout 120 "$bin" conform --backend-lib "$dir/plug_paths.so" --backend paths >"$tmp/out" 2>&1
check "a plugin whose second declared path gives NaN gradients: exit 1" test $? = 1
check "... that path FAILED" grep -qE '^paths/nan +grad-batch1 +FAILED .*nan' "$tmp/out"
check "... with a repro naming the path" grep -qE '^paths/nan +grad-batch1 +FAILED .*--path nan --ftz --check grad-batch1$' "$tmp/out"
check "... the first path PASSED" grep -qE '^paths/good +grad-batch1 +PASSED' "$tmp/out"

timeout 120 "$bin" conform --backend-lib "$dir/plug_ftzoff.so" --backend ftzoff >"$tmp/out" 2>&1
check "a plugin wrong only with FTZ/DAZ off: exit 1" test $? = 1
check "... FAILED with FTZ off" grep -qE '^ftzoff no-ftz +grad-odd-sizes +FAILED .* --no-ftz --check grad-odd-sizes$' "$tmp/out"
check "... PASSED with FTZ on" grep -qE '^ftzoff +grad-odd-sizes +PASSED' "$tmp/out"
"$bin" conform --backend-lib "$dir/plug_ftzoff.so" --backend ftzoff --ftz >"$tmp/out" 2>&1
check "... --ftz checks with FTZ on only" test $? = 0

"$bin" conform --backend-lib "$dir/plug_unavail.so" --backend unavail,naive --check grad-batch1 \
  >"$tmp/out" 2>"$tmp/err"
check "an unavailable backend named: exit 3 (as gradcheck)" test $? = 3
check "... saying why" grep -q 'backend unavail unavailable: no such device' "$tmp/err"
check "... the others still checked" grep -qE '^naive +grad-batch1 +PASSED' "$tmp/out"

start=$SECONDS
"$bin" conform --backend-lib "$dir/plug_hang.so" --backend hang --time-limit 2 >"$tmp/out" 2>&1
check "a hang costs one time limit, every FTZ setting included" test $((SECONDS - start)) -lt 10
check "... the FTZ-off checks SKIPPED" grep -qE '^hang no-ftz +grad-batch1 +SKIPPED' "$tmp/out"
# a second of work then a crash, in every check: 36 children would take 36 s
start=$SECONDS
ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0" timeout 120 \
  "$bin" conform --backend-lib "$dir/plug_slowcrash.so" --backend slowcrash --time-limit 3 \
  >"$tmp/out" 2>&1
check "--time-limit is per backend, not per child: 3 s of crashing children, then stopped" \
  test $((SECONDS - start)) -lt 12
check "... the rest SKIPPED" grep -qE '^slowcrash no-ftz +gemm-floor +SKIPPED' "$tmp/out"

start=$SECONDS
timeout 60 "$bin" conform --backend-lib "$dir/plug_exithang.so" --backend exithang --time-limit 5 \
  >"$tmp/out" 2>&1
check "a plugin that hangs as it is unloaded, after reporting: exit 0" test $? = 0
check "... every check reported, none timed out" \
  grep -qE '^conform: [0-9]+ passed, 0 failed, [0-9]+ not supported, 0 skipped' "$tmp/out"
check "... and not waited for" test $((SECONDS - start)) -lt 20

# a plugin in a folder named q'$(touch PWNED)': the repro line, pasted into a POSIX shell,
# runs mlpbench on that file and nothing else; more than 2047 bytes deep, it is not cut
paste_repro() { # DIR: conform on DIR/plug.so (nobias), its repro run by sh
  mkdir -p "$1" && cp "$dir/plug_nobias.so" "$1/plug.so"
  "$bin" conform --backend-lib "$1/plug.so" --backend nobias --check grad-odd-sizes >"$tmp/out" 2>&1
  line=$(grep -E '^nobias +grad-odd-sizes +FAILED ' "$tmp/out")
  repro=${line##*; repro: }
  sh -c "mlpbench() { \"$bin\" \"\$@\"; }; $repro" >"$tmp/repro" 2>&1
}
paste_repro "$tmp/q'\$(touch $tmp/pwned)'"
check "a plugin path with quotes and \$(...): FAILED line with a repro" test -n "$line"
check "... pasted into sh it runs nothing else" test ! -e "$tmp/pwned"
check "... and fails the same check again" grep -qE '^nobias +grad-odd-sizes +FAILED' "$tmp/repro"
long=$(printf 'd%.0s' $(seq 200))
deep="$tmp/q'\$(touch $tmp/pwned2)'"
for _ in $(seq 10); do deep="$deep/$long"; done
paste_repro "$deep"
check "a 2200-byte plugin path: the repro is not cut (it ends with its --check)" \
  grep -qE -- '--check grad-odd-sizes$' <<<"$line"
check "... pasted into sh it fails the same check again" grep -qE '^nobias +grad-odd-sizes +FAILED' "$tmp/repro"
check "... and runs nothing else" test ! -e "$tmp/pwned2"
finish
