#!/usr/bin/env bash
# test_plugins.sh MLPBENCH DIR: loading backend plugins (DIR holds tests/plugins/fixture.c's
# builds): each bad table or path is refused with one message and exit 2; a good one joins
# list, gradcheck, train and bench (--processes children too); its strings are filtered.
set -u
bin=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# refused LIB REGEX: list --backend-lib LIB exits 2 with one line matching REGEX
refused() {
  "$bin" list --backend-lib "$1" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qE "$2" "$tmp/err" ||
    { echo "rc=$rc"; cat "$tmp/err"; return 1; }
}
check "wrong ABI version: both versions named" \
  refused "$dir/plug_version.so" "built for mlpbench backend ABI 99, this mlpbench speaks ABI 3"
check "wrong table size" refused "$dir/plug_size.so" "its table is [0-9]+ bytes, ABI 3's is [0-9]+"
check "a NULL required slot is named" refused "$dir/plug_nullslot.so" "required slot 'forward' NULL"
check "no entry point" refused "$dir/plug_noentry.so" "exports no mlpbench_backend_entry"
check "entry returns no table" refused "$dir/plug_notable.so" "returned no table"
check "a name clash with a built-in" refused "$dir/plug_clash.so" "name 'naive' is taken"
check "a reserved word as a name" refused "$dir/plug_reserved.so" "'all'.*is reserved"
check "a name one too long is shown whole" \
  refused "$dir/plug_longname.so" "'abcdefghijklmnopqrstu'\): its name too long"
check "a name outside the rule, printed without its escape" \
  refused "$dir/plug_badname.so" "holds a character outside|does not start"
check "the bad name's escape never reaches the terminal" \
  bash -c "! grep -q $'\033' '$tmp/err'"
check "a missing path" refused "$tmp/nothere.so" "nothere.so: No such file or directory"
echo "not an ELF" >"$tmp/text.so"
check "a file that is not a shared library" refused "$tmp/text.so" "cannot load it as a shared library"
check "a folder" refused "$tmp" "not a regular file"
MLPBENCH_BACKEND_LIBS="$dir/plug_version.so" "$bin" list >/dev/null 2>"$tmp/err"
check "the environment's list is checked the same way" test $? = 2
check "... and its message names the variable" grep -q "MLPBENCH_BACKEND_LIBS" "$tmp/err"

good=$dir/plug_good.so
"$bin" list --backend-lib "$good" >"$tmp/out" 2>&1
check "list shows the plugin" grep -qE "^fixture +available" "$tmp/out"
"$bin" list --backend-lib "$good" --backend-lib "$dir/./plug_good.so" >/dev/null 2>&1
check "the same file twice is loaded once (no clash with itself)" test $? = 0
ln "$good" "$tmp/hardlink.so" 2>/dev/null || cp "$good" "$tmp/hardlink.so"
if [ "$(stat -c %i "$good")" = "$(stat -c %i "$tmp/hardlink.so")" ]; then
  "$bin" list --backend-lib "$good" --backend-lib "$tmp/hardlink.so" >/dev/null 2>&1
  check "a hard link to a loaded plugin is the same plugin (no clash)" test $? = 0
else
  skipped "a hard link across file systems (tmp is elsewhere)"
fi
MLPBENCH_BACKEND_LIBS=":$good:" "$bin" list >"$tmp/out" 2>&1
check "MLPBENCH_BACKEND_LIBS loads it (empty items skipped)" grep -qE "^fixture +available" "$tmp/out"
"$bin" list --backend-lib "$dir/plug_hostile.so" >"$tmp/out" 2>&1
check "a plugin's summary reaches the terminal filtered" grep -q "evil?\]0;pwned??\[2J summary" "$tmp/out"
check "... with no escape byte left" bash -c "! grep -q $'\033' '$tmp/out'"

"$bin" gradcheck --backend-lib "$good" --backend fixture --workload toy >"$tmp/out" 2>&1
check "gradcheck passes the plugin" grep -qE "^\| fixture \|.*\| pass \|$" "$tmp/out"
"$bin" gradcheck --backend-lib "$dir/plug_nobias.so" --backend nobias --workload toy >"$tmp/out" 2>&1
check "gradcheck fails a plugin that drops a bias gradient (exit 1)" test $? = 1
# every batch of this run is 128 (even): only the check's odd, short batch reaches the slip
"$bin" bench --backend-lib "$dir/plug_oddbatch.so" --backend naive,oddbatch --workload mnist \
  --data synthetic:600 --epochs 2 --quiet --results "$tmp/odd.json" >"$tmp/out" 2>"$tmp/err"
check "bench's check catches a plugin wrong only on odd batches (exit 1)" test $? = 1
check "... and names every failing tensor and the batch" \
  grep -qE "oddbatch: gradient check FAILED on a batch of 33: W1 [0-9.e+-]+ > 1e-05, W2 " "$tmp/err"
check "... and naive still passes" grep -qE "^\| naive \|.*\| pass" "$tmp/out"
"$bin" train --backend-lib "$good" --backend fixture --workload toy --epochs 50 --quiet \
  >"$tmp/out" 2>&1
check "train runs the plugin" test $? = 0
"$bin" bench --backend-lib "$good" --backend naive,fixture --workload toy --epochs 2 \
  --processes 2 --quiet --results "$tmp/r.json" >"$tmp/out" 2>&1
check "bench --processes: the children load the plugin" grep -qE "^\| fixture \|.*\| 2: " "$tmp/out"
check "the results file has the plugin's row" grep -q '"backend": "fixture"' "$tmp/r.json"
"$bin" bench --backend naive --workload toy --epochs 2 --quiet --results "$tmp/n.json" \
  >/dev/null 2>&1
"$bin" compare "$tmp/r.json" "$tmp/r.json" >"$tmp/out" 2>&1
check "compare reads a results file with a plugin row" grep -q "fixture" "$tmp/out"
check "... a plugin row records the file that produced it: path and SHA-256" \
  grep -q "\"plugin_sha256\": \"$(sha256sum "$good" | cut -c1-64)\"" "$tmp/r.json"
check "... its resolved path" grep -q "\"plugin_path\": \"$(realpath "$good")\"" "$tmp/r.json"
check "... and a built-in row none" grep -q '"plugin_sha256": ""' "$tmp/n.json"
check "describe after create: the row's details come from a live context (its own table as self)" \
  grep -q '"details": "fixture: a live context, hidden 3"' "$tmp/r.json"
"$bin" list --backend-lib "$good" >"$tmp/out" 2>&1
check "... and list asks it before any context" grep -q "fixture: no context yet" "$tmp/out"

# no cap on plugins: ten loaded, the default list (every available backend) holds them all
libs=() names="fixture"
libs+=(--backend-lib "$good")
for n in nozero nobias adambc oddbatch ftzoff paths lazy lazystep slowfloor; do
  libs+=(--backend-lib "$dir/plug_$n.so")
  names="$names $n"
done
"$bin" gradcheck "${libs[@]}" --workload toy >"$tmp/out" 2>&1
missing=""
for n in $names naive; do grep -qE "^\| $n +\|" "$tmp/out" || missing="$missing $n"; done
check "ten plugins: every one in the default list (missing:$missing)" test -z "$missing"

# plugins cannot change the harness (issue 26 section 2)
# FP environment: a plugin that leaves rounding upward (and FTZ/DAZ on) must not change naive
"$bin" gradcheck --backend naive --workload mnist --data synthetic:600 >"$tmp/alone" 2>&1
"$bin" gradcheck --backend-lib "$dir/plug_fenv.so" --backend fenv,naive --workload mnist \
  --data synthetic:600 >"$tmp/out" 2>"$tmp/err"
check "a plugin that changes the FP environment: naive's check after it is bit for bit the same" \
  test "$(grep -E '^\| naive \|' "$tmp/alone")" = "$(grep -E '^\| naive \|' "$tmp/out")"
check "... and mlpbench names the backend, the slot and what changed" \
  grep -qE "backend fenv changed the floating-point environment in its forward_backward slot \(rounding mode upward" "$tmp/err"
"$bin" bench --backend-lib "$dir/plug_fenv.so" --backend fenv --workload toy --epochs 2 --quiet \
  --results "$tmp/fenv.json" >/dev/null 2>&1
check "... and its row records it" \
  grep -qE '"plugin_fenv_changed": "forward_backward: rounding mode upward' "$tmp/fenv.json"

# exit(): one line naming backend and slot, exit 3, nothing written, no temp folder left
mkdir -p "$tmp/t" "$tmp/o"
for cmd in bench train gradcheck; do
  outs=()
  [ $cmd = bench ] && outs=(--results "$tmp/o/x.json" --markdown "$tmp/o/x.md" --plots "$tmp/o/p")
  TMPDIR="$tmp/t" "$bin" $cmd --backend-lib "$dir/plug_exitfb.so" --backend naive,exitfb \
    --workload toy --quiet "${outs[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null
  check "$cmd: a plugin that calls exit(0) in forward_backward: exit 3" test $? = 3
  check "... one line naming the backend and the slot" \
    grep -q "backend exitfb called exit() inside its forward_backward slot" "$tmp/err"
  check "... nothing written, no temporary folder left" \
    test -z "$(find "$tmp/o" -type f)" -a -z "$(ls -A "$tmp/t")"
done

# a plugin that ignores SIGTERM (and blocks SIGINT) cannot disable bench's stop
"$bin" bench --backend-lib "$dir/plug_noterm.so" --backend noterm --workload mnist \
  --data synthetic:3000 --epochs 200 --quiet --results "$tmp/o/t.json" >/dev/null 2>&1 &
pid=$!
sleep 3
kill -TERM $pid
for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -KILL $pid; echo "still running 10 s after SIGTERM"; }
wait $pid
check "a plugin that ignores SIGTERM: bench still stops on it (exit 143)" test $? = 143
check "... and writes nothing" test ! -e "$tmp/o/t.json"

# helpers' groups: what a plugin forks in a --processes child does not outlive bench
: >"$tmp/pids"
MLPB_FIXTURE_PIDFILE="$tmp/pids" "$bin" bench --backend-lib "$dir/plug_helper.so" --backend helper \
  --workload toy --epochs 2 --processes 2 --quiet --results "$tmp/h.json" >/dev/null 2>&1
check "bench --processes with a plugin that forks a helper: exit 0" test $? = 0
sleep 0.5
alive=""
# a zombie is stopped (a container's init may be slow to reap what was reparented to it)
while read -r p; do
  [ -e /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] && alive="$alive $p"
done <"$tmp/pids"
check "... its helpers were stopped with their process ($(wc -l <"$tmp/pids") pids noted)" \
  test -z "$alive" -a -s "$tmp/pids"
finish
