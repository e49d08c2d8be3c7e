#!/usr/bin/env bash
# test_gate.sh MLPBENCH: the gate's decisions (harness/scripts/bench-check.sh), on runs whose
# times are set, not measured: a fake bench writes one real results file with its samples
# scaled (a factor per binary, drift per round, seeded noise per run) and compare is the real
# one. Unchanged tight runs pass (exit 0), a +20% slowdown is confirmed (exit 1), and runs too
# noisy to rule out +10% get more rounds and then NO VERDICT (exit 2), never a silent pass.
set -u
bin=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
gate=$(realpath "$(dirname "$0")/../harness/scripts/bench-check.sh")

"$bin" bench --workload mnist --data synthetic:300 --epochs 4 --backend naive --quiet \
  --results "$tmp/run.json" >/dev/null 2>&1
unmark "$tmp/run.json"
check "the source run exits 0" test $? = 0

cat >"$tmp/gen.py" <<'PY'
import json, random, sys
src, out, factor, noise, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
name = out.rsplit("/", 1)[-1]  # a-mnist-S-I.json: side, stage, round
rnd = random.Random(seed + name.split("-", 1)[-1])  # the round's draw, both sides alike
r = json.load(open(src))
rnd_run = random.Random(seed + name)  # the run's own
k = factor * (1 + noise * (2 * rnd_run.random() - 1))
drift = 1 + 0.3 * rnd.random()  # the round's phase: both runs of a round share it
for x in r["workloads"][0]["results"]:
    x["epoch_seconds"] = [0.1 * drift * k * (1 + 0.001 * i) for i in range(3)]
    x["epoch_cpu_seconds"] = list(x["epoch_seconds"])
json.dump(r, open(out, "w"))
PY
# fake NAME FACTOR: a binary whose bench writes run.json scaled by FACTOR (noise from $NOISE)
fake() {
  cat >"$tmp/$1" <<SH
#!/usr/bin/env bash
if [ "\$1" = bench ]; then
  while [ \$# -gt 0 ]; do [ "\$1" = --results ] && out=\$2; shift; done
  exec python3 "$tmp/gen.py" "$tmp/run.json" "\$out" $2 "\${NOISE:-0.002}" "\${SEED:-1}"
fi
exec "$bin" "\$@"
SH
  chmod +x "$tmp/$1"
}
fake a 1.0
fake same 1.0
fake slow 1.2
gate_run() { # gate_run NEW_FAKE: the gate of a against it, 6 rounds a stage; exit code in $rc
  GATE_BIN_A=$tmp/a GATE_BIN_B=$tmp/$1 GATE_PAIRS=6 GATE_OUT=$tmp/gate bash "$gate" >"$tmp/out" 2>&1
  rc=$?
}
said() { grep -q -- "$1" "$tmp/out"; }

gate_run same
check "unchanged, tight runs: the gate passes (exit $rc)" bash -c "test $rc = 0 && grep -q 'bench-check: pass' '$tmp/out'"
check "... judged on CPU time, wall time shown beside" \
  bash -c "grep -q 'judged on cpu time' '$tmp/out' && grep -q 'stage 1 on wall time, for information' '$tmp/out'"
gate_run slow
check "+20%: flagged, confirmed by a fresh stage, exit 1 (exit $rc)" \
  bash -c "test $rc = 1 && grep -q 'REGRESSION confirmed in both stages' '$tmp/out'"
NOISE=0.5 gate_run same
check "runs spread +-50%: more rounds, then NO VERDICT, exit 2 (exit $rc)" \
  bash -c "test $rc = 2 && grep -q 'NO VERDICT' '$tmp/out'"
check "... after more rounds, or a confirming stage that could not judge" \
  bash -c "grep -q 'adding 6 more\|confirming with a fresh' '$tmp/out'"
check "... naming the row" bash -c "grep -A2 'NO VERDICT' '$tmp/out' | grep -q 'mnist | naive'"
check "... never a pass" bash -c "! grep -q 'bench-check: pass' '$tmp/out'"
GATE_METRIC=wall NOISE=0.002 gate_run same
check "GATE_METRIC=wall judges the wall time (exit $rc)" \
  bash -c "test $rc = 0 && grep -q 'judged on wall time' '$tmp/out'"

finish
