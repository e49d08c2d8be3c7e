#!/usr/bin/env bash
# test_limits.sh MLPBENCH SANITIZED: counts the user gives cannot overflow a buffer, setup
# out of memory fails cleanly, SIGTERM reaches --processes children, a hung peer is killed at
# its deadline, temp folders honour TMPDIR and are gone afterwards, and a peer whose
# gradients fail exits 1 (issue "the hostile user, round 3", classes 1, 2, 5 and 7).
set -u
bin=$1
sanitized=${2:-OFF}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
mkdir "$tmp/t"
export TMPDIR=$tmp/t
prev() { printf 'previous results\n' >"$1"; }
kept() { [ "$(cat "$1")" = "previous results" ]; }
tmp_empty() { [ -z "$(ls -A "$tmp/t")" ]; }

# a product of counts that overflows int: refused before anything is sized by it
prev "$tmp/o.json"
out=$("$bin" bench --workload toy --block 1 --epochs 1073741824 --repeat 4 --backend naive \
  --quiet --results "$tmp/o.json" 2>&1)
rc=$?
check "overflowing sample count is exit 2 with the limit named (exit $rc: $out)" \
  bash -c '[ "$0" = 2 ] && grep -q "4294967296 timing samples per backend, over the limit" <<<"$1"' \
  "$rc" "$out"
check "overflowing sample count keeps the previous results" kept "$tmp/o.json"

# the floor is sized by what a sample spans: a --block far beyond --epochs times 20 epochs'
# products, not 4 x 2^30 of them (which ran for hours); timeout only guards against that hang
out=$(timeout 120 "$bin" bench --workload toy --block 1073741824 --epochs 20 --warmup 0 \
  --repeat 2 --backend naive --quiet --results "$tmp/b.json" 2>&1)
rc=$?
check "a block beyond the epochs (exit $rc: $out)" [ "$rc" = 0 ]

# out of memory while setting up: one message, exit 3, no file written, the previous kept
if [ "$sanitized" = ON ]; then
  skipped "out of memory under ulimit -v: AddressSanitizer reserves terabytes of address space"
else
  prev "$tmp/m.json"
  out=$( (ulimit -v 1500000 && exec "$bin" bench --workload mnist --data synthetic:3000000 \
    --backend naive --quiet --results "$tmp/m.json") 2>&1)
  rc=$?
  check "setup out of memory is exit 3 with one message (exit $rc: $out)" \
    bash -c '[ "$0" = 3 ] && grep -q "out of memory" <<<"$1" && ! grep -q "^## " <<<"$1"' "$rc" "$out"
  check "setup out of memory says what failed, not that a process did ($out)" \
    bash -c 'grep -q "workload mnist could not be set up" <<<"$0" && ! grep -q "process" <<<"$0"' "$out"
  check "setup out of memory keeps the previous results" kept "$tmp/m.json"
fi

# SIGTERM to bench --processes: the running child is stopped too, exit 143 at once, no file,
# no child left, no temp folder left
prev "$tmp/s.json"
"$bin" bench --workload mnist --data synthetic:3000 --epochs 400 --backend naive --processes 2 \
  --results "$tmp/s.json" >"$tmp/s.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "process 1 of 2" "$tmp/s.out" && break; sleep 0.1; done
sleep 1
t0=$(date +%s)
kill -TERM $pid
wait $pid
rc=$?
dt=$(($(date +%s) - t0))
check "SIGTERM to bench --processes exits 143 (exit $rc after ${dt}s: $(tail -3 "$tmp/s.out"))" \
  [ "$rc" = 143 ]
check "SIGTERM: stopped within 10 s (took ${dt}s)" [ "$dt" -le 10 ]
check "SIGTERM: no bench-process child left" bash -c '! pgrep -f "bench-process $0" >/dev/null' "$tmp/t"
check "SIGTERM: the previous results kept" kept "$tmp/s.json"
check "SIGTERM: no temp folder left in TMPDIR ($(ls "$tmp/t"))" tmp_empty

# report, plot and history --plots stopped by SIGTERM while gnuplot runs (a fake one that
# hangs): exit 143 at once, gnuplot stopped too, no page written, no temp folder left
mkdir -p "$tmp/bin"
printf '#!/bin/sh\nexec sleep 300\n' >"$tmp/bin/gnuplot"
chmod +x "$tmp/bin/gnuplot"
"$bin" bench --workload toy --epochs 100 --backend naive --quiet --results "$tmp/r.json" \
  >/dev/null 2>&1
for cmd in "report $tmp/r.json --out $tmp/page.html" "plot $tmp/r.json --plots $tmp/pl" \
  "history $tmp/r.json --plots $tmp/hp"; do
  # shellcheck disable=SC2086
  PATH=$tmp/bin:$PATH "$bin" $cmd >"$tmp/sig.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do pgrep -f "sleep 300" >/dev/null && break; sleep 0.1; done
  kill -TERM $pid
  wait $pid
  rc=$?
  check "${cmd%% *} stopped by SIGTERM exits 143 (exit $rc: $(tail -2 "$tmp/sig.out"))" [ "$rc" = 143 ]
  check "${cmd%% *}: the hung gnuplot is stopped too" bash -c '! pgrep -f "^sleep 300" >/dev/null'
  check "${cmd%% *}: no temp folder left ($(ls "$tmp/t"))" tmp_empty
done
check "report stopped: no page written" test ! -e "$tmp/page.html"

# peers: a hung peer is killed at --peer-timeout; its export went to TMPDIR and is removed
py=
for c in "${MLPBENCH_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$c" ] && "$c" -c 'import numpy' >/dev/null 2>&1 && py=$c && break
done
if [ -z "$py" ]; then
  skipped "peer deadline: no python3 with numpy"
else
  cat >"$tmp/hang.py" <<'PY'
import os, sys, time
open(os.environ["MLPB_SEEN"], "w").write(sys.argv[sys.argv.index("--run") + 1])
time.sleep(1000)
PY
  t0=$(date +%s)
  out=$(MLPBENCH_PEER_SCRIPT=$tmp/hang.py MLPB_SEEN=$tmp/seen "$bin" bench --workload mnist \
    --data synthetic:300 --epochs 2 --backend naive --peers numpy --peer-timeout 2 --quiet \
    --results "$tmp/p.json" 2>&1)
  rc=$?
  dt=$(($(date +%s) - t0))
  check "a hung peer is killed at its deadline, exit 3 (exit $rc after ${dt}s: $out)" \
    bash -c '[ "$0" = 3 ] && grep -q "peer numpy timed out after 2 s" <<<"$1"' "$rc" "$out"
  check "the hung peer's row says so in the results" \
    grep -q "timed out after 2 s" "$tmp/p.json"
  check "the peer's export was made in TMPDIR ($(cat "$tmp/seen" 2>/dev/null))" \
    bash -c '[[ "$(cat "$0")" == "$1"/mlpbench-peer-* ]]' "$tmp/seen" "$tmp/t"
  check "no temp folder left after a failed peer ($(ls "$tmp/t"))" tmp_empty
  check "no hung peer left" bash -c '! pgrep -f "$0" >/dev/null' "$tmp/hang[.]py"

  # a peer whose gradients are wrong fails its check: exit 1, as for a backend
  cat >"$tmp/wrong.py" <<'PY'
import os, runpy, sys
import numpy as np
real = os.environ["MLPB_REAL_PEER"]
sys.argv[0] = real
try:
    runpy.run_path(real, run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
g = os.path.join(sys.argv[sys.argv.index("--run") + 1], "grads.f32")
a = np.fromfile(g, dtype=np.float32)
a[::7] *= 1.5
a.tofile(g)
PY
  out=$(MLPBENCH_PEER_SCRIPT=$tmp/wrong.py MLPB_REAL_PEER=$(dirname "$0")/../workloads/reference/peer.py \
    "$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend naive --peers numpy \
    --quiet --results "$tmp/w.json" 2>&1)
  rc=$?
  check "a peer failing its gradient check is exit 1 (exit $rc: $(tail -3 <<<"$out"))" [ "$rc" = 1 ]
fi
# a TMPDIR of 1179-2999 bytes cut the peers' 1200-byte paths: the export landed beside the
# temp folder and stayed. Every file is in the folder made under it, whole, or the run fails.
long=$tmp/t
for i in 1 2 3 4 5 6 7 8 9 10; do long=$long/$(printf 'd%.0s' {1..190}); done
mkdir -p "$long"
cat >"$tmp/lpy" <<'SH'
#!/bin/sh
[ "$1" = -c ] && exit 0
shift
while [ "$1" != --run ]; do shift; done
ls "$2" >"$MLPB_SEEN"
printf '%s\n' "$2" >>"$MLPB_SEEN"
exit 77
SH
chmod +x "$tmp/lpy"
out=$(TMPDIR=$long MLPBENCH_PYTHON=$tmp/lpy MLPB_SEEN=$tmp/lseen "$bin" bench --workload mnist \
  --data synthetic:300 --epochs 2 --backend naive --peers numpy --quiet \
  --results "$tmp/l.json" 2>&1)
rc=$?
check "a ${#long}-byte TMPDIR: the peer's run is exported whole (exit $rc: $(tail -2 <<<"$out"))" \
  bash -c '[ "$0" = 0 ] && grep -qx run.json "$1" && grep -qx order.i32 "$1" &&
           grep -qx params.f32 "$1" && [[ "$(tail -1 "$1")" == "$2"/mlpbench-peer-* ]]' \
  "$rc" "$tmp/lseen" "$long"
check "a ${#long}-byte TMPDIR: nothing left in it or beside it ($(find "$tmp/t" -type f | head -3))" \
  bash -c '[ -z "$(find "$0" -type f)" ] && [ -z "$(ls -A "$1")" ]' "$tmp/t" "$long"
rm -rf "${tmp:?}/t/"*
# a results file of short numbers under the 64 MiB cap: jansson's tree of them took 25 times
# the file (1.5 GB for 60 MiB); their arrays are decoded straight into doubles now (8 bytes a
# number), so history, compare and report of 29 MiB grow by well under 400 MB over a small file
if [ "$sanitized" = ON ]; then
  skipped "results in bounded memory: AddressSanitizer's shadow memory counts too"
elif command -v python3 >/dev/null; then
  "$bin" bench --workload toy --epochs 20 --backend naive --quiet --results "$tmp/small.json" \
    >/dev/null 2>&1
  python3 - "$tmp/small.json" "$tmp/short.json" 2600000 <<'PY'
import json, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(src))
row = r["workloads"][0]["results"][0]
ones = "[" + ",".join(["1"] * n) + "]"
keys = ["epoch_seconds", "epoch_cpu_seconds", "epoch_other_cpu_seconds", "epoch_steal_seconds",
        "epoch_involuntary_switches", "sample_other_runnable"]
for k in keys:
    row[k] = "@" + k
text = json.dumps(r, separators=(",", ":"))
for k in keys:
    text = text.replace('"@' + k + '"', ones)
open(dst, "w").write(text)
PY
  # peak resident KiB of one command (its exit status first)
  peak() { python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
  for cmd in history compare report; do
    case $cmd in
    compare) extra=(--force --allow-inconclusive) ;;
    report) extra=(--out "$tmp/short.html") ;;
    *) extra=() ;;
    esac
    small=$tmp/small.json big=$tmp/short.json
    [ $cmd = compare ] && small="$small $small" && big="$big $big"
    read -r rc0 kb0 <<<"$(peak "$bin" $cmd $small "${extra[@]}")"
    read -r rc kb <<<"$(peak "$bin" $cmd $big "${extra[@]}")"
    check "$cmd reads a $(($(stat -c %s "$tmp/short.json") >> 20)) MiB file of short numbers: exit $rc, $(((kb - kb0) >> 10)) MB over a small file's $((kb0 >> 10)) MB (under 400)" \
      bash -c '[ "$0" = 0 ] && [ "$1" = 0 ] && [ $(($2 - $3)) -lt 409600 ]' "$rc0" "$rc" "$kb" "$kb0"
  done
fi
finish
