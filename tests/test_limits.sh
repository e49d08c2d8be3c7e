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
# it writes its pid, so the test asks after this gnuplot alone: other suites on the machine
# (another checkout's test_limits) run their own "sleep 300"
printf '#!/bin/sh\necho $$ >"%s/gp.pid"\nexec sleep 300\n' "$tmp" >"$tmp/bin/gnuplot"
chmod +x "$tmp/bin/gnuplot"
"$bin" bench --workload toy --epochs 100 --backend naive --quiet --results "$tmp/r.json" \
  >/dev/null 2>&1
for cmd in "report $tmp/r.json --out $tmp/page.html" "plot $tmp/r.json --plots $tmp/pl" \
  "history $tmp/r.json --plots $tmp/hp"; do
  rm -f "$tmp/gp.pid"
  # shellcheck disable=SC2086
  PATH=$tmp/bin:$PATH "$bin" $cmd >"$tmp/sig.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/gp.pid" ] && break; sleep 0.1; done
  kill -TERM $pid
  wait $pid
  rc=$?
  check "${cmd%% *} stopped by SIGTERM exits 143 (exit $rc: $(tail -2 "$tmp/sig.out"))" [ "$rc" = 143 ]
  gp=$(cat "$tmp/gp.pid" 2>/dev/null)
  check "${cmd%% *}: the hung gnuplot is stopped too (pid ${gp:-none})" \
    bash -c '[ -n "$0" ] && ! kill -0 "$0" 2>/dev/null' "$gp"
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
finish
