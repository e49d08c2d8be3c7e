#!/usr/bin/env bash
# test_disturbed.sh MLPBENCH DIR: the one timed region and the disturbed verdict (DIR holds
# tests/plugins/fixture.c's builds). A backend that returns before its work is done is still
# timed to the end of that work, on both trainer paths; a floor above the epoch, and a machine
# kept busy by planted busy loops, turn rows disturbed, marked in the table, the results file
# and the report; --require-quiet then exits 3 after writing everything.
set -u
bin=$1
dir=$2
tmp=$(mktemp -d)
busy=()
cleanup() {
  for p in "${busy[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"

# every epoch_seconds of every row in FILE is at least MIN seconds
at_least() {
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = [x for w in r["workloads"] for row in w["results"] for x in row["epoch_seconds"]]
sys.exit(0 if s and min(s) >= float(sys.argv[2]) else print("samples:", s) or 1)
PY
}
# the rows of FILE named by $2 (comma list) are disturbed, each reason matching REGEX $3
disturbed() {
  python3 - "$@" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
rows = [row for w in r["workloads"] for row in w["results"] if row["backend"] in sys.argv[2].split(",")]
ok = rows and all(row["disturbed"] and re.search(sys.argv[3], row["disturbed_reason"]) for row in rows)
per_sample = all(len(row["epoch_other_cpu_seconds"]) == len(row["epoch_seconds"]) for row in rows)
sys.exit(0 if ok and per_sample else print([(x["backend"], x["disturbed"], x["disturbed_reason"]) for x in rows]) or 1)
PY
}

# the resident path (set_dataset + train_steps) and the per-step path: LAZY_S (0.05 s) of work
# per call is finished only in sync; a sample that did not end after the sync would read
# microseconds
for p in lazy lazystep; do
  "$bin" bench --backend-lib "$dir/plug_$p.so" --backend $p --workload toy --epochs 4 --block 1 \
    --quiet --results "$tmp/$p.json" >"$tmp/$p.out" 2>&1
  check "$p: bench exits 0" test $? = 0
  check "$p: every sample includes the work the backend left running (>= 0.05 s)" \
    at_least "$tmp/$p.json" 0.05
done

# a GEMM floor above the epoch: "x floor" under 0.98 is never printed bare
"$bin" bench --backend-lib "$dir/plug_slowfloor.so" --backend slowfloor --workload toy \
  --epochs 4 --block 1 --quiet --require-quiet --results "$tmp/floor.json" \
  --markdown "$tmp/floor.md" >"$tmp/floor.out" 2>"$tmp/floor.err"
check "a floor above the epoch: --require-quiet exits 3" test $? = 3
check "... after writing the results file" test -s "$tmp/floor.json"
check "... whose row is disturbed, the floor named" disturbed "$tmp/floor.json" slowfloor "GEMM floor"
check "... one message naming the row and the reason" \
  grep -qE "^mlpbench bench: --require-quiet: toy/slowfloor was disturbed: .*GEMM floor" "$tmp/floor.err"
check "... the table marks the floor ratio" grep -qE '^\| slowfloor \|.*\| [0-9.]+ \(disturbed\) \|' "$tmp/floor.md"
check "... and says what was seen and what to do under it" \
  grep -qE "^Warning: the row marked \(disturbed\).*slowfloor: .*GEMM floor.*quiet machine" "$tmp/floor.md"
"$bin" report "$tmp/floor.json" --out "$tmp/floor.html" >/dev/null 2>&1
check "... and the HTML report" grep -qE "<tr><td>slowfloor</td><td>[0-9.]+ (us|ms|s) <span class=bad>\(disturbed\)" "$tmp/floor.html"
check "... with the reason under the table" grep -q "<li>slowfloor: .*GEMM floor" "$tmp/floor.html"
"$bin" bench --backend-lib "$dir/plug_slowfloor.so" --backend slowfloor --workload toy \
  --epochs 4 --block 1 --quiet --results "$tmp/floor2.json" >/dev/null 2>&1
check "without --require-quiet the same run exits 0" test $? = 0

# a --processes child reuses the machine peak its parent measured (the plan carries it) rather
# than measuring its own: a child handed a plan with a peak reports that peak
python3 - "$tmp/plan.json" "$tmp/child.json" <<'PY'
import json, sys
json.dump({"schema": "mlpbench-plan-2", "backend_libs": [], "backends": ["naive"],
           "workloads": ["toy"], "peers": [], "data": None,
           "wl": {"epochs": 4, "batch": 0, "hidden": 0, "limit": 0, "lr": 0.0, "lr_set": False,
                  "sampling": 0, "no_zero_grad": False},
           "opts": {"threads": 0, "ftz": True, "tf32": False, "path": None}, "seed": "128",
           "warmup": 1, "repeat": 1, "block": 1, "fd_samples": 8, "quiet": True, "sweep": False,
           "processes": 1, "peer_timeout": 1800,
           "out": {"results": sys.argv[2], "markdown": None, "plots": None, "format": 0},
           "peak": {"gflops": 12345.5, "by": "the parent", "at": "2026-01-02T03:04:05Z",
                    "disturbed": ""}}, open(sys.argv[1], "w"))
PY
"$bin" bench-process "$tmp/plan.json" >/dev/null 2>&1
check "a --processes child takes its parent's machine peak from the plan" python3 -c "
import json, sys
c = json.load(open('$tmp/child.json'))['context']
sys.exit(not (c['machine_peak_gflops'] == 12345.5 and c['machine_peak_by'] == 'the parent'
              and c['machine_peak_at'] == '2026-01-02T03:04:05Z'))"

# a planted busy machine: one busy loop per core for the rest of the test
for _ in $(seq "$(nproc)"); do
  sh -c 'while :; do :; done' &
  busy+=($!)
done
"$bin" bench --backend naive --workload all --data synthetic:600 --epochs 3 --quiet \
  --require-quiet --results "$tmp/busy.json" >"$tmp/busy.out" 2>"$tmp/busy.err"
check "busy loops on every core: --require-quiet exits 3" test $? = 3
check "... the rows are disturbed by other work" \
  disturbed "$tmp/busy.json" naive "other processes used|other tasks waiting"
check "... and named on stderr" grep -qE "^mlpbench bench: --require-quiet: (mnist|toy)/naive was disturbed" "$tmp/busy.err"
check "... the Markdown table marks them" grep -qE '^\| naive \|.*\| [0-9.]+ \(disturbed\) \|' "$tmp/busy.out"
# blas at 2 threads under the same load gives a core back after its first sample, and says so
if "$bin" list 2>/dev/null | grep -q "^blas"; then
  "$bin" bench --backend blas --workload mnist --data synthetic:600 --epochs 5 --threads 2 \
    --quiet --results "$tmp/fit.json" >/dev/null 2>&1
  check "busy loops on every core: blas at 2 threads runs its later samples on 1 thread" python3 -c "
import json, sys
r = json.load(open('$tmp/fit.json'))['workloads'][0]['results'][0]
t = r['sample_threads']
sys.exit(not (r['threads'] == 2 and len(t) == 4 and t[1:] == [1, 1, 1]
              and 'ran on fewer threads (down to 1 of 2)' in r['disturbed_reason']) and print(t, r['disturbed_reason']))"
fi
"$bin" bench --backend naive --workload mnist --data synthetic:600 --epochs 3 --processes 2 \
  --quiet --require-quiet --results "$tmp/procs.json" >/dev/null 2>&1
check "--processes: the merged row is disturbed, and --require-quiet exits 3" \
  bash -c "test $? = 3 && python3 -c \"import json,sys; r=json.load(open('$tmp/procs.json'))['workloads'][0]['results'][0]; sys.exit(not (r['disturbed'] and r['disturbed_reason'].startswith('process ')))\""
finish
