#!/usr/bin/env bash
# test_compare.sh MLPBENCH: compare says when it cannot judge. Every file is one real run's
# results file with its samples and marks rewritten, so no verdict depends on machine noise:
# sizes that cannot reach alpha are inconclusive (exit 2, never "same"), disturbed rows are
# not judged, rows of one side are listed, paired rounds too noisy to rule out a slowdown are
# inconclusive, and --format json carries the same verdicts for a CI job.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

"$bin" bench --workload mnist --data synthetic:300 --epochs 3 --backend naive,blas --quiet \
  --results "$tmp/run.json" >"$tmp/run.out" 2>&1
check "the source run exits 0" test $? = 0
unmark "$tmp/run.json"

# mk OUT SPEC...: a copy of run.json; SPEC is BACKEND=T1:T2:... (its per-epoch seconds; with
# @C1:C2:... after them, CPU seconds unlike the wall's),
# BACKEND=- (row removed), or BACKEND!REASON (row marked disturbed)
mk() {
  python3 - "$tmp/run.json" "$@" <<'PY'
import json, sys
src, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
r = json.load(open(src))
rows = r["workloads"][0]["results"]
for s in specs:
    if "!" in s:
        be, why = s.split("!", 1)
        for x in rows:
            if x["backend"] == be:
                x["disturbed"], x["disturbed_reason"] = True, why
    elif s.endswith("=-"):
        rows[:] = [x for x in rows if x["backend"] != s[:-2]]
    else:
        be, ts = s.split("=", 1)
        ts, _, cs = ts.partition("@")
        t = [float(v) for v in ts.split(":")]
        c = [float(v) for v in cs.split(":")] if cs else t
        for x in rows:
            if x["backend"] == be:
                x["epoch_seconds"] = t
                x["epoch_cpu_seconds"] = c
                x["epoch_device_seconds"] = []
json.dump(r, open(out, "w"), indent=1)
PY
}
mark() { # mark FILE BACKEND REASON: that row of FILE marked disturbed, in place
  python3 - "$@" <<'PY'
import json, sys
f, be, why = sys.argv[1:]
r = json.load(open(f))
for x in r["workloads"][0]["results"]:
    if x["backend"] == be:
        x["disturbed"], x["disturbed_reason"] = True, why
json.dump(r, open(f, "w"), indent=1)
PY
}
said() { grep -q -- "$1" "$tmp/out"; }
said_row() { grep -E "^\| mnist \| $1 \|" "$tmp/out" | grep -q -- "$2"; }
cmp_() { # cmp_ ARGS...: compare into $tmp/out, its exit code into $rc
  "$bin" compare "$@" >"$tmp/out" 2>&1
  rc=$?
}

# the issue's case: one run a side, 3 samples each, +435%: no p below 0.1 exists
mk "$tmp/a3.json" naive=0.0592:0.05925:0.0593 blas=0.010:0.011:0.012
mk "$tmp/b3.json" naive=0.3170:0.31711:0.3172 blas=0.010:0.011:0.012
cmp_ "$tmp/a3.json" "$tmp/b3.json"
check "3 against 3 at +435% is inconclusive, exit 2 (exit $rc)" test $rc = 2
check "... saying why and how many it needs" \
  said_row naive "inconclusive: 3 samples a side cannot reach p < 0.05; need at least 4"
check "... and never 'same'" bash -c "! grep -E '^\| mnist \|' '$tmp/out' | grep -q '| same'"
check "... with the change still shown" said_row naive "+435.2%"
check "single runs: drift between them is uncontrolled, use bench-check" \
  bash -c "grep -q 'drift between the two runs' '$tmp/out' && grep -q 'make bench-check' '$tmp/out'"
cmp_ --allow-inconclusive "$tmp/a3.json" "$tmp/b3.json"
check "--allow-inconclusive: exit 0 (exit $rc)" test $rc = 0
check "... still says inconclusive" said_row naive "inconclusive"
check "... and says it was allowed" said "allowed (--allow-inconclusive)"
cmp_ --alpha 0.2 "$tmp/a3.json" "$tmp/b3.json"
check "at alpha 0.2, 3 against 3 can judge: a regression (exit $rc)" \
  bash -c "test $rc = 1 && grep -q REGRESSION '$tmp/out'"

# two samples a side (the blank "too few samples" row before) is the same class
mk "$tmp/a2.json" naive=0.059:0.060 blas=0.010:0.011
mk "$tmp/b2.json" naive=0.316:0.317 blas=0.010:0.011
cmp_ "$tmp/a2.json" "$tmp/b2.json"
check "2 against 2 is inconclusive, exit 2 (exit $rc)" \
  bash -c "test $rc = 2 && grep -q '2 samples a side cannot reach p < 0.05; need at least 4' '$tmp/out'"

# four a side can reach p < 0.05: the rule blocks no real verdict
mk "$tmp/a4.json" naive=0.059:0.060:0.061:0.062 blas=0.010:0.011:0.012:0.013
mk "$tmp/b4.json" naive=0.316:0.317:0.318:0.319 blas=0.010:0.011:0.012:0.013
cmp_ "$tmp/a4.json" "$tmp/b4.json"
check "4 against 4 at +435% is a regression (exit $rc)" \
  bash -c "test $rc = 1 && grep -E '^\| mnist \| naive \|' '$tmp/out' | grep -q REGRESSION"
check "... and the unchanged row is same" said_row blas "| same |"

# a row a run marked disturbed is never judged a regression
mk "$tmp/b4d.json" naive=0.316:0.317:0.318:0.319 blas=0.010:0.011:0.012:0.013 \
  "naive!other runnable work 1.9 cores"
cmp_ "$tmp/a4.json" "$tmp/b4d.json"
check "a disturbed row is not judged (exit 2, no regression; exit $rc)" \
  bash -c "test $rc = 2 && ! grep -q REGRESSION '$tmp/out'"
check "... 'not judged: machine busy', with the reason" \
  said_row naive "not judged: machine busy: 1 of 1 NEW run(s) disturbed (other runnable work 1.9 cores)"
cmp_ --allow-inconclusive "$tmp/a4.json" "$tmp/b4d.json"
check "... --allow-inconclusive accepts it (exit $rc)" test $rc = 0

# --metric cpu judges CPU time: a run that waited for a core (wall +50%, CPU the same) is no
# regression there, and is one on the wall clock
mk "$tmp/b4w.json" naive=0.090:0.091:0.092:0.093@0.059:0.060:0.061:0.062 \
  blas=0.010:0.011:0.012:0.013
cmp_ --metric cpu "$tmp/a4.json" "$tmp/b4w.json"
check "--metric cpu: a run that only waited is no regression (exit $rc)" \
  bash -c "test $rc = 0 && grep -q 'per-epoch CPU time' '$tmp/out' && grep -E '^\| mnist \| naive \|' '$tmp/out' | grep -q '| same |'"
cmp_ "$tmp/a4.json" "$tmp/b4w.json"
check "... the wall clock calls it a regression (exit $rc)" test $rc = 1

# rows of one side are listed, not dropped; no row in common says so
mk "$tmp/b4n.json" naive=0.059:0.060:0.061:0.062 blas=-
cmp_ "$tmp/a4.json" "$tmp/b4n.json"
check "a row of BASE only is listed (exit $rc)" \
  bash -c "test $rc = 0 && grep -q 'only in BASE, not compared: mnist/blas' '$tmp/out'"
cmp_ "$tmp/b4n.json" "$tmp/a4.json"
check "a row of NEW only is listed" said "only in NEW, not compared: mnist/blas"
mk "$tmp/a4b.json" naive=- blas=0.010:0.011:0.012:0.013
cmp_ "$tmp/a4b.json" "$tmp/b4n.json"
check "no rows in common: exit 2, said so (exit $rc)" \
  bash -c "test $rc = 2 && grep -q 'no workload x backend in both: BASE has mnist/blas; NEW has mnist/naive' '$tmp/out'"

# --format json: the verdicts a CI job reads, to stdout or --out
"$bin" compare --format json "$tmp/a3.json" "$tmp/b3.json" >"$tmp/v.json" 2>"$tmp/err"
rc=$?
check "--format json keeps the exit code (exit $rc)" test $rc = 2
check "... and parses, with the verdicts" python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
rows = {r['backend']: r for r in j['rows']}
n = rows['naive']
ok = (j['schema'] == 'mlpbench-compare-1' and j['exit'] == 2 and j['paired'] is False
      and n['verdict'] == 'inconclusive' and n['need'] == 4 and n['n_base'] == 3
      and n['unit'] == 'samples' and abs(n['change'] - 4.35) < 0.01 and n['p'] >= 0.1
      and 'cannot reach' in n['reason'] and j['counts']['inconclusive'] == 2
      and j['single_runs'] is True and j['only_base'] == [] and j['only_new'] == [])
sys.exit(0 if ok else 1)
" "$tmp/v.json"
"$bin" compare --format json --out "$tmp/o/v.json" "$tmp/a4.json" "$tmp/b4n.json" >"$tmp/out" 2>&1
rc=$?
check "--out FILE writes the JSON there, nothing on stdout (exit $rc)" \
  bash -c "test $rc = 0 && test ! -s '$tmp/out'"
check "... with the one-sided row and the verdict" python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if j['only_base'] == [{'workload': 'mnist', 'backend': 'blas'}]
         and [r['verdict'] for r in j['rows']] == ['same'] and j['exit'] == 0 else 1)
" "$tmp/o/v.json"
"$bin" compare --format json "$tmp/a4.json" "$tmp/b4d.json" >"$tmp/v.json" 2>&1
check "... a disturbed row reads not_judged" python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
n = [r for r in j['rows'] if r['backend'] == 'naive'][0]
sys.exit(0 if n['verdict'] == 'not_judged' and n['disturbed_runs'] == 1 and j['counts']['regressions'] == 0 else 1)
" "$tmp/v.json"
cmp_ --out "$tmp/a4.json" "$tmp/a4.json" "$tmp/b4.json"
check "--out naming a file it reads is refused (exit $rc)" \
  bash -c "test $rc = 2 && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$tmp/a4.json'"
cmp_ --format xml "$tmp/a4.json" "$tmp/b4.json"
check "an unknown --format is a usage error (exit $rc)" test $rc = 2

# --paired: rounds of one run a side. mkpairs N PREFIX R1 R2 ...: N rounds, round i's NEW run
# R_i times its BASE run, under drift that moves both (the machine's phase)
mkpairs() {
  local n=$1 pre=$2 i
  shift 2
  la="" lb=""
  for i in $(seq 1 "$n"); do
    local k=$1 d
    shift
    d=$(awk -v i="$i" 'BEGIN { print 1 + 0.15 * (i % 4) }')
    mk "$tmp/$pre-a$i.json" "naive=$(awk -v d="$d" -v i="$i" 'BEGIN { printf "%.6f:%.6f:%.6f", 0.1*d, 0.1001*d, 0.1002*d + i*1e-6 }')" blas=-
    mk "$tmp/$pre-b$i.json" "naive=$(awk -v d="$d" -v k="$k" -v i="$i" 'BEGIN { printf "%.6f:%.6f:%.6f", 0.1*d*k, 0.1001*d*k, 0.1002*d*k + i*1e-6 }')" blas=-
    la="${la:+$la,}$tmp/$pre-a$i.json"
    lb="${lb:+$lb,}$tmp/$pre-b$i.json"
  done
}
mkpairs 5 p5 1.20 1.21 1.19 1.22 1.18
cmp_ --paired "$la" "$lb"
check "--paired: 5 pairs at +20% are inconclusive (need 6; exit $rc)" \
  bash -c "test $rc = 2 && grep -q '5 pairs cannot reach p < 0.05; need at least 6' '$tmp/out'"
mkpairs 6 p6 1.20 1.21 1.19 1.22 1.18 1.20
cmp_ --paired "$la" "$lb"
check "--paired: 6 pairs at +20% are a regression (exit $rc)" \
  bash -c "test $rc = 1 && grep -q REGRESSION '$tmp/out'"
mkpairs 10 quiet 1.01 0.99 1.00 1.02 0.98 1.01 0.99 1.00 1.01 0.99
cmp_ --paired "$la" "$lb"
check "--paired: 10 tight pairs of unchanged code pass (exit $rc)" \
  bash -c "test $rc = 0 && grep -E '^\| mnist \| naive \|' '$tmp/out' | grep -q '| same |'"
mkpairs 10 loud 1.30 0.75 1.10 0.85 1.25 0.80 1.05 0.90 1.20 0.95
cmp_ --paired "$la" "$lb"
check "--paired: 10 pairs spread +-30% cannot rule out +10%: inconclusive, not same (exit $rc)" \
  bash -c "test $rc = 2 && grep -q 'inconclusive: the pairs. spread leaves up to' '$tmp/out'"
"$bin" compare --paired --format json "$la" "$lb" >"$tmp/v.json" 2>&1
check "... the json names the interval of the change" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['rows'][0]
lo, hi = r['change_interval']
sys.exit(0 if r['verdict'] == 'inconclusive' and lo < 0 < 0.10 < hi and r['unit'] == 'pairs' else 1)
" "$tmp/v.json"
# disturbed runs drop their pairs: with 4 of 10 disturbed, the 6 left still judge
mkpairs 10 busy 1.20 1.21 1.19 1.22 1.18 1.20 1.21 1.19 1.22 1.18
for i in 2 4 6 8; do mark "$tmp/busy-b$i.json" naive "steal 40%"; done
cmp_ --paired "$la" "$lb"
check "--paired: pairs with a disturbed run are dropped and said; the rest judge (exit $rc)" \
  bash -c "test $rc = 1 && grep -q '6 pairs' '$tmp/out' && grep -q '4 pair(s) dropped (a run of the round marked disturbed: machine busy)' '$tmp/out'"
cmp_ --paired --metric cpu "$la" "$lb"
check "--paired --metric cpu keeps them (CPU time does not wait), and says so (exit $rc)" \
  bash -c "test $rc = 1 && grep -q '10 pairs' '$tmp/out' && grep -q '4 pair(s) with a run marked disturbed, kept' '$tmp/out'"
for i in 1 3; do mark "$tmp/busy-a$i.json" naive "load 3.1"; done
cmp_ --paired "$la" "$lb"
check "--paired: too few quiet pairs left: not judged, machine busy (exit $rc)" \
  bash -c "test $rc = 2 && grep -q 'not judged: machine busy: 6 of 10 pairs had a disturbed run' '$tmp/out' && ! grep -q REGRESSION '$tmp/out'"

finish
