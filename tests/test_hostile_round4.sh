#!/usr/bin/env bash
# test_hostile_round4.sh MLPBENCH PLUGDIR: issue 26's probe (the hostile user, round 4), one
# case per fault of its sections 0, 1, 3, 4 and 5 that a script can reproduce. PLUGDIR holds
# the fixture plugins (tests/plugins/fixture.c, one fault each). Fast: small runs only.
# Cases whose fix belongs to another change are run with `owned` (set MLPB_PROBE_OWNED=1):
# they print OWNED PASS/FAIL and never decide the exit status.
set -u
bin=$(readlink -f "$1")
plug=$(readlink -f "$2")
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap '[ -n "${MLPB_PROBE_KEEP:-}" ] || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 2
said() { grep -q -- "$1" "$tmp/last.out"; }
run() { "$bin" "$@" >"$tmp/last.out" 2>&1; }
owned() { # owned OWNER "what" COMMAND...: tried only with MLPB_PROBE_OWNED=1, never counted
  local who=$1 what=$2
  shift 2
  [ "${MLPB_PROBE_OWNED:-0}" = 1 ] || return 0
  if "$@"; then echo "OWNED PASS ($who): $what"; else echo "OWNED FAIL ($who): $what"; fi
}
jget() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
export -f jget
alive() { # how many pids listed in FILE still run (a zombie only waits to be reaped)
  local n=0 p st
  for p in $(cat "$1"); do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
    [ -n "$st" ] && [ "$st" != Z ] && n=$((n + 1))
  done
  echo $n
}
toy() { "$bin" bench --workload toy --epochs 200 --quiet "$@"; }
small() { "$bin" bench --workload mnist --data synthetic:600 --epochs 2 --quiet "$@"; }

# ---- 0. the sweep's heap overflow: batches above the sweep's largest ----
run bench --workload mnist --backend blas --limit 3000 --batch 2048 --epochs 2 --sweep \
  --results "$tmp/sweep.json" --plots "$tmp/sweep-plots" --quiet
st=$?
check "§0 sweep at batch 2048 exits 0, no crash (exit $st)" test $st = 0
check "§0 ... and writes its results" test -s "$tmp/sweep.json"

# ---- 1. conform: untrusted code, isolated ----
conform() { timeout 60 "$bin" conform --backend-lib "$plug/plug_$1.so" --backend "$1" "${@:2}"; }
conform ctorcrash >"$tmp/last.out" 2>&1
st=$?
check "§1 a constructor that crashes: conform survives, not exit 0 (exit $st)" \
  bash -c "[ $st != 0 ] && [ $st -lt 128 ]"
# under ASan the sanitizer's own handler turns the crash into an exit of status 1, after its report
check "§1 ... and says how the plugin died" \
  bash -c "grep -q 'signal 11' '$tmp/last.out' || { grep -q AddressSanitizer '$tmp/last.out' && grep -q 'the child exited (status 1)' '$tmp/last.out'; }"
conform entryexit >"$tmp/last.out" 2>&1
st=$?
check "§1 exit(0) in the entry point is not a pass (exit $st)" test $st != 0
s0=$(date +%s)
conform availhang --time-limit 2 >"$tmp/last.out" 2>&1
st=$?
s1=$(date +%s)
check "§1 a hang in available() obeys --time-limit 2 (took $((s1 - s0)) s, exit $st)" \
  bash -c "[ $((s1 - s0)) -le 10 ] && [ $st != 0 ]"
s0=$(date +%s)
conform prints --check grad-batch1 >"$tmp/last.out" 2>&1
st=$?
s1=$(date +%s)
check "§1 report-shaped prints on stdout change nothing (exit $st, $((s1 - s0)) s)" \
  bash -c "[ $st = 0 ] && [ $((s1 - s0)) -le 20 ] && grep -q ' 0 failed' '$tmp/last.out'"
MLPB_FIXTURE_MARK="$tmp/once.mark" conform once >"$tmp/last.out" 2>&1
st=$?
check "§1 a child that cannot load the plugin is no '0 passed, 0 failed' exit 0 (exit $st)" \
  bash -c "[ $st != 0 ] && ! grep -q '0 passed, 0 failed' '$tmp/last.out'"
: >"$tmp/pids"
MLPB_FIXTURE_PIDFILE="$tmp/pids" "$bin" conform --backend-lib "$plug/plug_hang.so" \
  --backend hang >"$tmp/last.out" 2>&1 &
cpid=$!
for _ in $(seq 50); do [ -s "$tmp/pids" ] && break; sleep 0.1; done
kill -TERM $cpid
wait $cpid
st=$?
sleep 0.3
alive=$(alive "$tmp/pids")
check "§1 SIGTERM to conform: exit 143 (got $st)" test $st = 143
check "§1 ... and no child left running ($alive alive)" bash -c "[ -s '$tmp/pids' ] && [ $alive = 0 ]"
: >"$tmp/pids"
MLPB_FIXTURE_PIDFILE="$tmp/pids" conform helper --check grad-batch1 >"$tmp/last.out" 2>&1
st=$?
alive=$(alive "$tmp/pids")
check "§1 a helper holding stdout open: still passes (exit $st)" test $st = 0
check "§1 ... and the helper is stopped ($alive alive)" test $alive = 0
conform unavail >"$tmp/last.out" 2>&1
st=$?
check "§1 a named backend that is unavailable exits 3, as gradcheck (got $st)" test $st = 3
s0=$(date +%s)
conform slowcrash --time-limit 3 >"$tmp/last.out" 2>&1
s1=$(date +%s)
check "§1 --time-limit 3 is per backend: done in $((s1 - s0)) s" test $((s1 - s0)) -le 8
conform paths --check grad-batch1 >"$tmp/last.out" 2>&1
st=$?
check "§1 a second declared path with NaN gradients fails (exit $st)" \
  bash -c "[ $st = 1 ] && grep -q 'paths/nan .*FAILED' '$tmp/last.out'"
conform ftzoff --check grad-batch1 >"$tmp/last.out" 2>&1
st=$?
check "§1 wrong only with FTZ off: fails (exit $st)" \
  bash -c "[ $st = 1 ] && grep -q 'no-ftz .*FAILED' '$tmp/last.out'"
qdir="$tmp/q'\$(touch PWNED)'" # then folders of 200 x's: the path passes 2047 bytes
for _ in $(seq 11); do qdir="$qdir/$(printf 'x%.0s' $(seq 200))"; done
mkdir -p "$qdir" && cp "$plug/plug_nobias.so" "$qdir/libnobias.so"
"$bin" conform --backend-lib "$qdir/libnobias.so" --backend nobias --check grad-batch1 >"$tmp/last.out" 2>&1
repro=$(sed -n 's/.*; repro: //p' "$tmp/last.out" | head -1)
check "§1 a repro line holds the whole path" bash -c '[[ "$1" == *xxxxxxxxxx/libnobias.so* ]]' _ "$repro"
(cd "$tmp" && PATH="$(dirname "$bin"):$PATH" sh -c "$repro" >/dev/null 2>&1)
check "§1 ... and pasted into sh runs no command from the path" test ! -e "$tmp/PWNED"

# ---- 3. names, kernels, files ----
run list --backend-lib "$plug/plug_reserved.so"
st=$?
check "§3 a plugin named 'all' is refused, exit 2 (got $st)" \
  bash -c "[ $st = 2 ] && grep -q 'reserved' '$tmp/last.out'"
ln "$plug/plug_good.so" "$tmp/hardlink.so" 2>/dev/null || cp "$plug/plug_good.so" "$tmp/hardlink.so"
if [ "$(stat -c %i "$plug/plug_good.so")" = "$(stat -c %i "$tmp/hardlink.so")" ]; then
  run list --backend-lib "$plug/plug_good.so" --backend-lib "$tmp/hardlink.so"
  check "§3 one plugin through a hard link is one plugin, no name clash (exit $?)" test $? = 0
else
  skipped "§3 hard link: $tmp cannot hold a link to the build folder"
fi
if "$bin" list 2>/dev/null | grep -q OpenBLAS; then
  toy --backend blas --blas-kernel SapphireRapids --results "$tmp/k.json" >"$tmp/last.out" 2>&1
  st=$?
  got=$( [ -s "$tmp/k.json" ] && jget "$tmp/k.json" "r['context']['blas_kernel']")
  check "§3 --blas-kernel SapphireRapids: exit 2 naming the kernel that runs, or it ran (exit $st, '$got')" \
    bash -c "{ [ $st = 2 ] && grep -q 'runs its .* kernels instead' '$tmp/last.out' && [ ! -e '$tmp/k.json' ]; } ||
             { [ $st = 0 ] && [ '${got,,}' = sapphirerapids ]; }"
else
  skipped "§3 --blas-kernel: blas is not OpenBLAS here"
fi
longtmp="$tmp/$(printf 'd%.0s' $(seq 1300))"
mkdir -p "$longtmp"
check "§3 a TMPDIR of 1300+ bytes: the numpy peer runs, and leaves nothing in or beside it" \
  bash -c "before=\$(ls -A '$tmp' | wc -l); TMPDIR='$longtmp' '$bin' gradcheck --workload toy --backend naive --peer numpy >'$tmp/peer.out' 2>&1;
           st=\$?; [ \$st = 0 ] && [ \$(ls -A '$tmp' | wc -l) = \$((before + 1)) ] && [ -z \"\$(ls -A '$longtmp')\" ]"
libs=()
for p in good crash hang nozero nobias adambc oddbatch lazy lazystep slowfloor; do libs+=(--backend-lib "$plug/plug_$p.so"); done
check "§3 10 plugins: none dropped from list" \
  bash -c '"$0" list "${@}" 2>&1 | grep -c -E "^(fixture|crash|hang|nozero|nobias|adambc|oddbatch|lazy|lazystep|slowfloor) +available" | grep -qx 10' "$bin" "${libs[@]}"

# ---- 4. smaller faults ----
(umask 077 && toy --backend naive --results "$tmp/um.json" --markdown "$tmp/um.md" >/dev/null 2>&1)
check "§4 under umask 077 the results and Markdown are 0600 ($(stat -c %a "$tmp/um.json" "$tmp/um.md" 2>/dev/null | tr '\n' ' '))" \
  bash -c "[ \"\$(stat -c %a '$tmp/um.json')\" = 600 ] && [ \"\$(stat -c %a '$tmp/um.md')\" = 600 ]"
run bench --workload toy --backend naive --path fast
check "§4 a --path error names --path, not --cuda-path" bash -c "! grep -q -- '--cuda-path' '$tmp/last.out' && grep -q -- '--path' '$tmp/last.out'"
run bench --workload toy --path fused,cublas
st=$?
check "§4 --path fused,cublas is refused as a list, exit 2 (got $st)" test $st = 2
small --backend-lib "$plug/plug_nanfwd.so" --backend nanfwd --results "$tmp/nan.json" >"$tmp/last.out" 2>&1
st=$?
check "§4 NaN outputs from forward(): no accuracy, not exit 0 (exit $st)" \
  bash -c "[ $st != 0 ] && grep -qi 'nan' '$tmp/last.out'"
toy --backend naive --results "$tmp/only-naive.json" >/dev/null 2>&1
toy --backend blas --results "$tmp/only-blas.json" >/dev/null 2>&1
unmark "$tmp/only-naive.json" "$tmp/only-blas.json"
run compare "$tmp/only-naive.json" "$tmp/only-blas.json"
check "§4 compare with no rows in common says that, not 'not enough samples'" \
  bash -c "said() { grep -q -- \"\$1\" '$tmp/last.out'; }; said 'no workload x backend in both' && ! said 'not enough samples'"
python3 - "$tmp/sweep.json" "$tmp/badmontage.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["workloads"][0]["montage"]["truth"][0] = 12
json.dump(j, open(sys.argv[2], "w"))
PY
run plot "$tmp/badmontage.json" --plots "$tmp/bm"
st=$?
check "§4 plot of a malformed montage says so, exit 2 (got $st)" \
  bash -c "[ $st = 2 ] && grep -q 'montage' '$tmp/last.out'"
run list --backend-lib "$plug/plug_longname.so"
check "§4 a 21-character name is shown whole" said "abcdefghijklmnopqrstu"
run plot "$tmp/sweep.json" extra
check "§4 plot names a stray argument for what it is" bash -c "! grep -q 'unexpected argument' '$tmp/last.out' && grep -q 'a second file' '$tmp/last.out'"
run report "$tmp/sweep.json" extra
check "§4 report names a stray argument for what it is" bash -c "! grep -q 'unexpected argument' '$tmp/last.out' && grep -q 'a second file' '$tmp/last.out'"
check "§4 --processes 2: no 'bench process:' headers echoed to stderr" \
  bash -c "'$bin' bench --workload toy --epochs 200 --backend naive --processes 2 --quiet --results '$tmp/pr.json' 2>&1 >/dev/null | grep -q 'bench process:'; [ \$? = 1 ]"

# ---- 5. what a newcomer trips on ----
toy --backend-lib "$plug/plug_library.so" --backend blas,library --results "$tmp/lib.json" >"$tmp/last.out" 2>&1
check "§5 two math libraries: the header says 'per row', never one row's library" \
  bash -c "[ \"\$(jget '$tmp/lib.json' \"r['context']['blas_library']\")\" = 'per row' ] && ! grep -q 'BLAS: FakeBLAS' '$tmp/last.out'" 2>/dev/null
small --backend-lib "$plug/plug_oddbatch.so" --backend oddbatch --results "$tmp/odd.json" >"$tmp/last.out" 2>&1
st=$?
check "§5 bench's gradient check catches a fault only odd batches reach (exit $st)" test $st = 1
check "§5 ... and names every tensor that fails (W1 and W2)" bash -c "grep -q W1 '$tmp/last.out' && grep -q W2 '$tmp/last.out'"
check "§5 conform's FAILED line carries the check's shape" \
  bash -c "'$bin' conform --backend-lib '$plug/plug_nobias.so' --backend nobias 2>&1 | grep FAILED | head -1 | grep -q 'batch'"
readme=$src/README.md
check "§5 the plugin guide's build line has -O2 and -fopenmp, exports PKG_CONFIG_PATH, asks for opt->threads" \
  bash -c "grep -q -- '-O2' '$readme' && grep -q -- '-fopenmp' '$readme' && grep -q 'export PKG_CONFIG_PATH' '$readme' && grep -q 'opt->threads' '$readme'"
run bench --workload toy --backend nave
check "§5 an unknown backend suggests the nearest name" said "naive"
run bench --workload toy --backend studnet
check "§5 ... and says plugins appear only when loaded" said "backend-lib"
small --backend naive --limit 400 --results "$tmp/h400.json" --format bmf >/dev/null 2>&1
small --backend naive --results "$tmp/hall.json" >/dev/null 2>&1
check "§5 --format bmf writes the export beside the native file" \
  bash -c "[ -s '$tmp/h400.bmf.json' ] && grep -q '\"schema\"' '$tmp/h400.json'"
"$bin" export "$tmp/hall.json" --format bmf --out "$tmp/hall.bmf.json" >/dev/null 2>&1
check "§5 mlpbench export makes one from a results file" test -s "$tmp/hall.bmf.json"
host=$(jget "$tmp/hall.json" "r['context']['host']" 2>/dev/null)
check "§5 BMF names carry no host name ('$host')" \
  bash -c "[ -n '$host' ] && python3 -c 'import json,sys; sys.exit(any(sys.argv[2] in k.split(\"/\") for k in json.load(open(sys.argv[1]))))' '$tmp/hall.bmf.json' '$host'"
check "§5 BMF: --limit 400 and the default are different benchmarks" \
  python3 -c "import json,sys; a=set(json.load(open(sys.argv[1]))); b=set(json.load(open(sys.argv[2]))); sys.exit(bool(a & b) or not a or not b)" "$tmp/h400.bmf.json" "$tmp/hall.bmf.json"
toy --backend naive --results "$tmp/toy.json" >/dev/null 2>&1
"$bin" export "$tmp/toy.json" --format gbench --out "$tmp/toy.gb.json" >/dev/null 2>&1
check "§5 gbench: a toy epoch reads above 0.01 in its unit, and the context has caches" python3 - "$tmp/toy.gb.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
b = [x for x in g["benchmarks"] if x.get("run_type") == "iteration"]
assert b and all(x["real_time"] >= 0.01 for x in b), [(x["real_time"], x["time_unit"]) for x in b]
assert g["context"]["caches"] or not open("/proc/cpuinfo").read(), "no caches"
PY
run --version
check "§5 mlpbench --version names version and commit" bash -c "[ \$? = 0 ] && grep -qi 'commit' '$tmp/last.out'"
cp "$tmp/h400.json" "$tmp/hall.json" "$tmp/hist-in/" 2>/dev/null || { mkdir -p "$tmp/hist-in" && cp "$tmp/h400.json" "$tmp/hall.json" "$tmp/hist-in/"; }
run history "$tmp/hist-in"
check "§5 history: two series of different --limit get different labels" \
  bash -c "grep -E '^\|' '$tmp/last.out' | grep naive | sort | uniq -d | grep -q . && exit 1; [ \$(grep -E '^\|' '$tmp/last.out' | grep -c naive) -ge 2 ]"
mkdir -p "$tmp/cwd" && (cd "$tmp/cwd" && "$bin" report "$tmp/toy.json" >/dev/null 2>&1)
check "§5 report without --out leaves the current folder alone" test -z "$(ls -A "$tmp/cwd")"
run report "$tmp/toy.json" --history "$tmp/toy.json" --out "$tmp/page.html"
check "§5 report names no temp folder it removed (was 'plots written to /tmp/mlpbench-report-...')" \
  bash -c "[ -s '$tmp/page.html' ] && ! grep -q 'mlpbench-report-' '$tmp/last.out'"
run history "$tmp/toy.json" --plots "$tmp/hplots"
check "§5 ... while history --plots still says where its plots went" said "history plots written to $tmp/hplots/"
run list
check "§5 no GPU: never 'driver version is insufficient'" bash -c "! grep -q 'insufficient' '$tmp/last.out'"
check "§5 conform --help does not say both 'included' and 'excepted'" \
  bash -c "! { '$bin' conform --help 2>&1 | grep -q 'included' && '$bin' conform --help 2>&1 | grep -q 'excepted'; }"
check "§5 --epochs 3 with --workload all leaves the toy at its own epochs or says so" \
  bash -c "'$bin' bench --epochs 3 --backend naive --data synthetic:600 --quiet --results '$tmp/ep.json' >'$tmp/ep.out' 2>&1;
           grep -qi 'toy' '$tmp/ep.out' && [ \"\$(jget '$tmp/ep.json' \"[w['epochs'] for w in r['workloads'] if w['name']=='toy'][0]\" 2>/dev/null)\" != 3 ]"

# plots, through a gnuplot that keeps each script and its data beside drawing them
real_gp=$(command -v gnuplot)
if [ -n "$real_gp" ]; then
  mkdir -p "$tmp/gpbin" "$tmp/gp"
  cat >"$tmp/gpbin/gnuplot" <<EOF
#!/bin/sh
d=\$(mktemp -d "$tmp/gp/s.XXXXXX") && cp "\$(dirname "\$1")"/* "\$d/"
exec "$real_gp" "\$@"
EOF
  chmod +x "$tmp/gpbin/gnuplot"
  PATH="$tmp/gpbin:$PATH" "$bin" plot "$tmp/sweep.json" --plots "$tmp/replot" >/dev/null 2>&1
  sc=$(grep -l "scaling" "$tmp"/gp/s.*/*.gp 2>/dev/null | head -1)
  check "§5 scaling plot: each x range ends near its largest point (gnuplot's own ran to 10000)" \
    python3 - "$sc" <<'PY'
import re, sys
gp = open(sys.argv[1]).read()
dat = open(sys.argv[1][:-3] + ".dat").read().strip().split("\n\n\n")
panels = re.findall(r"set xrange \[([^:]+):([^\]]+)\]\nplot (.*)", gp)
assert len(panels) == 2, gp
for lo, hi, plot in panels:
    xs = [float(l.split()[0]) for k in map(int, re.findall(r"index (\d+)", plot))
          for l in dat[k].strip().splitlines()]
    assert xs and float(hi) <= 1.5 * max(xs) and float(lo) >= min(xs) / 1.5, (lo, hi, min(xs), max(xs))
PY
  check "§5 scaling plot: ticks at the values swept" bash -c "[ -n '$sc' ] && grep -q 'xtic(1)' '$sc'"
  # a row of 0.9 ms beside one of 1.05 s: each label in its own unit, no exponent
  python3 - "$tmp/toy.json" "$tmp/slow.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = j["workloads"][0]["results"]
fast = dict(rows[0]); fast["backend"] = "fastone"
for row, t in ((fast, 0.0009), (rows[0], 1.05)):
    for k in ("median", "min", "max", "q1", "q3", "mean"):
        row[k] = t
    row["epoch_seconds"] = [t] * len(row["epoch_seconds"])
rows.insert(0, fast)  # ranked: fastest first
json.dump(j, open(sys.argv[2], "w"))
PY
  rm -rf "$tmp"/gp/s.*
  PATH="$tmp/gpbin:$PATH" "$bin" plot "$tmp/slow.json" --plots "$tmp/replot2" >"$tmp/last.out" 2>&1
  check "§5 time labels never read like 1.05e+03 ms" \
    bash -c "ls '$tmp'/gp/s.*/*.dat >/dev/null 2>&1 && ! grep -E '[0-9]e[+-][0-9]+ (ns|us|ms|s)' '$tmp'/gp/s.*/*.dat"
else
  skipped "§5 plots: no gnuplot"
fi
python3 - "$tmp/sweep.json" "$tmp/mont-b.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["workloads"][0]["montage"]["backend"] = "naive" if j["workloads"][0]["montage"]["backend"] != "naive" else "blas"
json.dump(j, open(sys.argv[2], "w"))
PY
"$bin" plot "$tmp/sweep.json" --plots "$tmp/ma" >/dev/null 2>&1
"$bin" plot "$tmp/mont-b.json" --plots "$tmp/mb" >/dev/null 2>&1
check "§5 the montage says whose predictions it shows (another backend, another picture)" \
  bash -c "[ -s '$tmp/ma/mnist-montage.png' ] && [ -s '$tmp/mb/mnist-montage.png' ] && ! cmp -s '$tmp/ma/mnist-montage.png' '$tmp/mb/mnist-montage.png'"
finish
