#!/usr/bin/env bash
# test_harness.sh MLPBENCH: what `make bench` hands a user: results files, the Markdown
# table, valid PNG plots, the regression gate's verdicts and exit codes.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

"$bin" bench --workload all --data synthetic:600 --epochs 3 --backend naive,blas --quiet \
  --results "$tmp/r.json" --markdown "$tmp/r.md" --plots "$tmp/plots" >"$tmp/out" 2>&1
check "bench exits 0" test $? = 0
# the sweep times fixed sizes (hidden up to 4096) whatever the run: on the fastest backend
# built, and on data whose split holds batches up to 128 only
sweep_be=naive
"$bin" list | grep -qE '^blas +available' && sweep_be=blas
"$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend $sweep_be --quiet \
  --results "$tmp/sweep.json" --plots "$tmp/sweep" --sweep >"$tmp/sweep.out" 2>&1
check "bench --sweep exits 0" test $? = 0
# a batch above the sweep's largest (1024): the hidden-width points run at it (issue 26 §0:
# the scratch was sized for 1024 rows and overflowed)
"$bin" bench --workload mnist --data synthetic:1600 --batch 1100 --epochs 2 --backend $sweep_be \
  --quiet --results "$tmp/sweep-big.json" --sweep >"$tmp/sweep-big.out" 2>&1
check "bench --sweep at batch 1100 (above the sweep's 1024) exits 0" test $? = 0
check "... and times every point" test "$(grep -c '"param"' "$tmp/sweep-big.json")" = 20
check "results file is JSON with both workloads" \
  grep -q '"schema": "mlpbench-results-1"' "$tmp/r.json"
check "markdown table has a ranked row" grep -qE '^\| (naive|blas) \| [0-9.]+ (us|ms|s) ' "$tmp/r.md"
check "montage is a PNG" is_png "$tmp/plots/mnist-montage.png"
check "the table shows the step floor beside the GEMM floor" \
  grep -q '| step floor | x step floor | GEMM floor | x floor |' "$tmp/r.md"
check "a CPU row has a step floor and its multiple" \
  grep -qE '^\| (naive|blas) \|.*\| [0-9.]+ (us|ms|s) \| [0-9.]+ \| [0-9.]+ (us|ms|s) \| [0-9.]+ \|' "$tmp/r.md"
check "the results file holds the step floor and its samples" \
  bash -c 'grep -qE "\"step_floor\": [0-9.e-]+" "$0" && grep -qE "\"step_floor_seconds\": \[$" "$0"' "$tmp/r.json"
mkdir -p "$tmp/replot"
"$bin" plot "$tmp/r.json" --plots "$tmp/replot" >/dev/null 2>&1
check "plot redraws the montage from the results file alone, the same picture" \
  cmp -s "$tmp/plots/mnist-montage.png" "$tmp/replot/mnist-montage.png"
python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
j['workloads'][0]['montage']['truth'][0] = 12
json.dump(j, open(sys.argv[2], 'w'))" "$tmp/r.json" "$tmp/badmontage.json"
"$bin" plot "$tmp/badmontage.json" --plots "$tmp/replot2" >"$tmp/bm.out" 2>&1
check "a broken montage in the file: plot says so and exits 2" \
  bash -c "test $? = 2 && grep -q 'digit montage not drawn: its data is not whole or out of range' '$tmp/bm.out'"
if command -v gnuplot >/dev/null; then
  for p in mnist-epoch-time toy-epoch-time mnist-curves mnist-ranking toy-ranking; do
    check "$p.png is a PNG" is_png "$tmp/plots/$p.png"
  done
  check "mnist-scaling.png (the sweep) is a PNG" is_png "$tmp/sweep/mnist-scaling.png"
  rm -f "$tmp/plots/mnist-curves.png"
  check "plot redraws from a results file" "$bin" plot "$tmp/r.json" --plots "$tmp/plots"
  check "redrawn curves are a PNG" is_png "$tmp/plots/mnist-curves.png"
  rm -f "$tmp/replot/mnist-ranking.png"
  "$bin" plot "$tmp/r.json" --plots "$tmp/replot" >/dev/null 2>&1
  check "the ranking is redrawn from the results file alone" is_png "$tmp/replot/mnist-ranking.png"
  # peers' details run to 160+ characters: as bar labels they pushed the plot off the picture
  "$bin" plot "$(dirname "$0")/../results/reference/issue25-ranking-t2.json" --plots "$tmp/peers" \
    >"$tmp/peers.out" 2>&1
  check "the ranking of ten rows with peers fits its picture (labels kept short)" \
    bash -c "is_png() { head -c 8 \"\$1\" | od -An -tx1 | grep -q '89 50 4e 47'; }; is_png '$tmp/peers/mnist-ranking.png' && ! grep -q 'canvas area too small' '$tmp/peers.out'"
else
  check "without gnuplot, one message" grep -q "plots skipped: gnuplot not found" "$tmp/out"
fi

"$bin" bench --workload toy --epochs 200 --quiet --format gbench --results "$tmp/g.json" >/dev/null 2>&1
check "gbench export beside the native file has aggregates" \
  grep -q '"aggregate_name": "median"' "$tmp/g.gbench.json"
check "... and the native file is still native" grep -q '"schema": "mlpbench-results' "$tmp/g.json"
check "a toy epoch (under a microsecond or so) is not given in ms" \
  bash -c "! grep -q '\"time_unit\": \"ms\"' '$tmp/g.gbench.json'"
check "gbench context has the caches" grep -q '"level": 2' "$tmp/g.gbench.json"
"$bin" bench --workload toy --epochs 200 --quiet --format github --results "$tmp/gh.json" >/dev/null 2>&1
check "github export has ranges" grep -q '"range"' "$tmp/gh.github.json"
# export from the file alone: the same document bench wrote, to the default place or --out
"$bin" export "$tmp/g.json" --format gbench --out "$tmp/g2.json" >/dev/null 2>&1
check "export gives what bench exported" cmp -s "$tmp/g.gbench.json" "$tmp/g2.json"
"$bin" export "$tmp/g.json" --format bmf >/dev/null 2>&1
check "export's default destination is beside the file" test -s "$tmp/g.bmf.json"
"$bin" export "$tmp/g.json" --format bmf --out "$tmp/g.json" >/dev/null 2>&1
check "export refuses to replace its own input (exit 2)" test $? = 2
check "... which is left as it was" grep -q '"schema": "mlpbench-results' "$tmp/g.json"
"$bin" export "$tmp/g.json" --format native >/dev/null 2>&1
check "export to native is refused (exit 2)" test $? = 2
# Bencher series: no host name, and another data set (--limit) is another series
"$bin" bench --workload mnist --data synthetic:400 --epochs 3 --backend naive --quiet --format bmf \
  --results "$tmp/b1.json" >/dev/null 2>&1
"$bin" bench --workload mnist --data synthetic:400 --limit 300 --epochs 3 --backend naive --quiet \
  --format bmf --results "$tmp/b2.json" >/dev/null 2>&1
python3 -c "
import json, socket, sys
a, b = (list(json.load(open(f))) for f in sys.argv[1:3])
ok = len(a) == 1 and len(b) == 1 and a != b and a[0].startswith('mnist 784-500-10 b128 w')
ok = ok and '/naive/m' in a[0] and socket.gethostname() not in a[0] + b[0]
sys.exit(0 if ok else 1)
" "$tmp/b1.bmf.json" "$tmp/b2.bmf.json"
check "BMF names: workload identity and machine, never the host" test $? = 0

# the gate: identical runs pass, a 1.5x slower copy fails, garbage is unusable. One real
# run, copied with small fixed spreads, so the verdicts cannot depend on machine noise.
"$bin" bench --workload mnist --data synthetic:400 --epochs 3 --backend naive --quiet \
  --results "$tmp/run.json" >/dev/null 2>&1
unmark "$tmp/run.json"
scaled() { # scaled IN OUT FACTOR: a copy of IN with every epoch time multiplied by FACTOR
  awk -v k="$3" '
    /"epoch_seconds"|"epoch_cpu_seconds"/ { inarr = 1; print; next }
    inarr && /\]/ { inarr = 0 }
    inarr { v = $1; sub(/,$/, "", v); c = ($1 ~ /,$/) ? "," : ""; printf "   %.17g%s\n", v * k, c; next }
    { print }' "$1" >"$2"
}
i=0
for f in 1.00 1.01 0.99 1.02 0.98; do
  i=$((i + 1))
  scaled "$tmp/run.json" "$tmp/a$i.json" "$f"
  scaled "$tmp/run.json" "$tmp/s$i.json" "$(awk -v f="$f" 'BEGIN { print f * 1.5 }')"
done
A=$tmp/a1.json,$tmp/a2.json,$tmp/a3.json,$tmp/a4.json,$tmp/a5.json
S=$tmp/s1.json,$tmp/s2.json,$tmp/s3.json,$tmp/s4.json,$tmp/s5.json
"$bin" compare "$A" "$A" >"$tmp/c0" 2>&1
check "gate passes identical runs (exit 0)" test $? = 0
"$bin" compare "$A" "$S" >"$tmp/c1" 2>&1
check "gate fails a 1.5x slowdown (exit 1)" test $? = 1
check "gate compares runs, not samples" grep -q "5 / 5 runs" "$tmp/c1"
"$bin" compare "$S" "$A" >"$tmp/c2" 2>&1
check "a speed-up is no regression (exit 0)" test $? = 0
# a workload named past 8 characters pools its runs like any other (it once never matched)
for f in "$tmp"/a[1-5].json "$tmp"/s[1-5].json; do
  sed 's/"name": "\(mnist\|toy\)"/"name": "\1-with-a-long-name"/' "$f" >"${f%.json}-long.json"
done
AL=${A//.json/-long.json}
SL=${S//.json/-long.json}
"$bin" compare "$AL" "$SL" >"$tmp/c3" 2>&1
check "a long workload name is compared (exit 1, 5 / 5 runs)" \
  bash -c "test $? = 1 && grep -q -- '-with-a-long-name' '$tmp/c3' && grep -q '5 / 5 runs' '$tmp/c3'"
echo '{"not": "results"}' >"$tmp/bad.json"
"$bin" compare "$tmp/bad.json" "$A" >/dev/null 2>&1
check "unusable input (exit 2)" test $? = 2
"$bin" compare "$tmp/missing.json" "$A" >/dev/null 2>&1
check "missing file (exit 2)" test $? = 2
"$bin" bench --workload toy --epochs 50 --results /proc/nope/r.json >"$tmp/u" 2>&1
check "unwritable results folder is refused before the run (exit 2)" test $? = 2
check "... with a message naming it" grep -q "/proc/nope" "$tmp/u"

"$bin" bench --workload toy --epochs 50 --plots /proc/nope >"$tmp/u" 2>&1
check "unwritable plots folder is refused before the run (exit 2)" test $? = 2

# SIGINT mid-run: what finished is printed, no results file (not even a temp file) is left
"$bin" bench --workload mnist --data synthetic:3000 --epochs 100 --backend naive,blas \
  --results "$tmp/int/r.json" >"$tmp/int.out" 2>&1 &
pid=$!
sleep 2 # inside the first backend's run (100 naive epochs take over 10 s here)
kill -INT $pid
wait $pid
check "SIGINT exits 130" test $? = 130
check "SIGINT says nothing was written" grep -q "interrupted by signal 2: no results file" "$tmp/int.out"
check "SIGINT leaves no results file" test -z "$(ls -A "$tmp/int" 2>/dev/null)"
check "SIGINT prints the table of what ran" grep -qE '^\| (naive|blas) \|' "$tmp/int.out"

# memory: the timed runs' peak RSS growth holds the model's four arrays (params, grads, m, v)
"$bin" bench --workload mnist --data synthetic:300 --hidden 2000 --epochs 4 --backend naive \
  --quiet --results "$tmp/mem.json" >"$tmp/mem.out" 2>&1
check "bench records the host's peak memory growth of the timed runs" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['workloads'][0]['results'][0]
n = 784 * 2000 + 2000 + 2000 * 10 + 10
sys.exit(0 if r['host_peak_growth_bytes'] >= 0.9 * 4 * 4 * n and r['device_bytes'] is None else 1)
" "$tmp/mem.json"
check "... and the table shows it" grep -qE '^\| naive \|.*\| RSS \+[0-9.]+ MiB' "$tmp/mem.out"
# (3 samples a side cannot reach p < 0.05: inconclusive, allowed here)
"$bin" compare --allow-inconclusive "$tmp/mem.json" "$tmp/mem.json" >"$tmp/mem.cmp" 2>&1
check "compare shows memory beside the gate, ungated (exit 0)" \
  bash -c "test $? = 0 && grep -qE '^\| mnist \| naive \| [0-9.]+ MiB \| [0-9.]+ MiB \| - \| - \|' '$tmp/mem.cmp'"

# the math library is each row's own, from the backend that ran it; a naive run records none
"$bin" bench --workload toy --epochs 100 --backend naive --quiet --results "$tmp/lib-n.json" \
  >/dev/null 2>&1
"$bin" bench --workload toy --epochs 100 --backend naive,blas --threads 1 --processes 2 --quiet \
  --results "$tmp/lib-b.json" >/dev/null 2>&1
check "each row records its own math library, and a naive run none" python3 -c "
import json, sys
n, b = (json.load(open(f)) for f in sys.argv[1:3])
rows = {r['backend']: r for r in b['workloads'][0]['results']}
ok = n['context']['blas_library'] == '' and n['workloads'][0]['results'][0]['library'] == ''
if 'blas' in rows:  # built with a CBLAS
    ok = ok and rows['blas']['library'] != '' and rows['naive']['library'] == ''
    ok = ok and rows['blas']['threads'] == 1 and b['context']['blas_threads'] == 1
sys.exit(0 if ok else 1)
" "$tmp/lib-n.json" "$tmp/lib-b.json"

# children run the parent's plan, not its command line parsed again: abbreviations included
"$bin" bench --workload toy --epochs 40 --backend naive --proc 2 --form bmf --quiet \
  --results "$tmp/abbr.json" >"$tmp/abbr.out" 2>&1
check "--proc 2 --form bmf: two processes, one BMF file (exit 0)" \
  bash -c "test $? = 0 && grep -q '\"toy 4-3-1 b3 w[0-9a-f]*/naive' '$tmp/abbr.bmf.json' && grep -q '2 fresh processes' '$tmp/abbr.out'"
echo previous >"$tmp/keep.json"
"$bin" bench --workload mnist --epochs 2 --backend naive --processes 2 --data /nonexistent \
  --quiet --results "$tmp/keep.json" >"$tmp/keep.out" 2>&1
check "a failed process writes no results file and keeps the previous one" \
  bash -c "test $? != 0 && test \"\$(cat '$tmp/keep.json')\" = previous && grep -q 'no results file written' '$tmp/keep.out'"
check "... and says which process failed, and how ($(tail -1 "$tmp/keep.out"))" \
  grep -q "^mlpbench bench: process 1 of 2 failed (exit 2): no results file written" "$tmp/keep.out"
"$bin" bench-process "$tmp/keep.json" >/dev/null 2>&1
check "bench-process refuses a file that is not a plan (exit 2)" test $? = 2

# --processes: each backend in fresh processes, merged; the table says what it rests on
"$bin" bench --workload toy --epochs 200 --processes 3 --quiet --results "$tmp/p3.json" \
  >"$tmp/p3.out" 2>&1
check "bench --processes 3 exits 0" test $? = 0
check "... the children echo no table or header lines of their own" \
  bash -c '! grep -q "^bench process:" "$0"' "$tmp/p3.out"
check "... the table names the processes" grep -q "3 fresh processes per backend" "$tmp/p3.out"
check "... every row shows its spread across processes" grep -qE '^\| naive \|.*\| 3: [0-9.]+% \| [^|]+ \| [^|]+ \|$' "$tmp/p3.out"
"$bin" bench --workload toy --epochs 200 --quiet --results "$tmp/p1.json" >"$tmp/p1.out" 2>&1
check "a single process says its IQR is inside one process" grep -q "One process per backend" "$tmp/p1.out"
if command -v python3 >/dev/null; then
  check "... three process medians and three processes' samples in the results file" \
    python3 -c "
import json, sys
r3 = json.load(open('$tmp/p3.json'))['workloads'][0]['results']
r1 = json.load(open('$tmp/p1.json'))['workloads'][0]['results']
ok = all(len(x['process_medians']) == 3 for x in r3)
ok &= all(len(a['epoch_seconds']) == 3 * len(b['epoch_seconds']) for a, b in zip(r3, r1))
sys.exit(0 if ok else 1)"
fi
"$bin" bench --workload toy --processes 0 --quiet >/dev/null 2>&1
check "--processes 0 is a usage error" test $? = 2

finish
