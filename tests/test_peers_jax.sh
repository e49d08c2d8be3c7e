#!/usr/bin/env bash
# test_peers_jax.sh MLPBENCH: the JAX peers (jax, jax-scan) on the same run as the backends:
# their gradients pass the float64 check, a planted wrong JAX gradient is caught, their curves
# follow naive's, their rows say how they were set up, and peers that cannot run here are
# skipped with their reason. Skips (77) when no python has jax and optax (make peers).
set -u
bin=$1
here=$(dirname "$0")
venv=$(dirname "$bin")/peers-venv/bin/python
py=
for c in "${MLPBENCH_PYTHON:-}" "$venv" python3; do
  [ -n "$c" ] && "$c" -c 'import numpy, jax, optax' >/dev/null 2>&1 && py=$c && break
done
[ -n "$py" ] || { echo "skipped: no python with jax and optax (make peers)"; exit 77; }
export MLPBENCH_PYTHON=$py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 passed=0
ok() { passed=$((passed + 1)); }

# 1. gradients on both workloads (toy: full batch, sigmoid, SGD; mnist: ReLU, softmax, Adam)
out=$("$bin" gradcheck --peer jax,jax-scan --data synthetic:600 --fd-samples 2 2>&1)
rc=$?
g=ok
for p in jax jax-scan; do
  n=$(grep -cE "^\| $p \(peer\) .* pass \|$" <<<"$out")
  [ "$n" = 2 ] || g=
done
[ $rc = 0 ] && [ -n "$g" ] && ok || { echo "FAIL: JAX gradients (exit $rc):"; echo "$out"; fail=1; }

# 2. a planted bug: the JAX model's ReLU made leaky (a wrong forward and derivative below 0);
# the judge must fail both JAX rows, exit 1
cat >"$tmp/leaky.py" <<'PY'
import os, runpy, sys
import jax, jax.numpy as jnp
jax.nn.relu = lambda x: jnp.where(x > 0, x, 0.01 * x)
sys.argv[0] = os.environ["MLPB_REAL_PEER"]
runpy.run_path(os.environ["MLPB_REAL_PEER"], run_name="__main__")
PY
out=$(MLPBENCH_PEER_SCRIPT=$tmp/leaky.py MLPB_REAL_PEER=$here/../workloads/reference/peer.py \
  "$bin" gradcheck --workload mnist --peer jax,jax-scan --data synthetic:300 --fd-samples 2 2>&1)
rc=$?
{ [ $rc = 1 ] && [ "$(grep -cE '^\| jax(-scan)? \(peer\) .* FAIL' <<<"$out")" = 2 ]; } && ok ||
  { echo "FAIL: a wrong JAX gradient not caught (exit $rc):"; echo "$out"; fail=1; }

# 3. a training run: curves within fp32 rounding of naive's, the setup recorded
"$bin" bench --workload mnist --data synthetic:600 --epochs 3 --backend naive --peers jax,jax-scan \
  --threads 1 --quiet --results "$tmp/r.json" >"$tmp/out" 2>&1 || { echo "FAIL: bench --peers jax"; cat "$tmp/out"; fail=1; }
MLPB_RESULTS=$tmp/r.json "$py" - <<'PY' && ok || fail=1
import json, os, sys
r = json.load(open(os.environ["MLPB_RESULTS"]))
rows = {x["backend"]: x for x in r["workloads"][0]["results"]}
ok = True
for p in ("jax", "jax-scan"):
    x = rows.get(p)
    if not x or not x["gradcheck"]["pass"]:
        print(f"FAIL: no passing {p} row"); ok = False; continue
    a, b = rows["naive"]["curves"]["loss"], x["curves"]["loss"]
    worst = max(abs(u - v) / u for u, v in zip(a, b))
    if len(a) != len(b) or worst > 1e-3:  # same weights and batches: fp32 rounding only
        print(f"FAIL: {p} loss curve {b} vs naive {a}"); ok = False
    if abs(x["val_acc"] - rows["naive"]["val_acc"]) > 0.01:
        print(f"FAIL: {p} val acc {x['val_acc']} vs naive {rows['naive']['val_acc']}"); ok = False
    setup = {k: x[k] for k in ("framework", "compile_mode", "threads", "threads_set_by", "subnormals", "compile_seconds")}
    if not (setup["framework"].startswith("JAX ") and setup["threads"] == 1 and setup["compile_mode"]
            and setup["subnormals"] and setup["threads_set_by"] and (setup["compile_seconds"] or 0) > 0):
        print(f"FAIL: {p} setup {setup}"); ok = False
    print(f"{p}: loss curve within {worst:.1e} of naive; {setup}")
sys.exit(0 if ok else 1)
PY

# 4. skipped with the reason, never a failed run: jax-cuda without a GPU (or jax's CUDA plugin);
# torch's peers where no python has PyTorch
if ! "$py" -c 'import jax, sys; sys.exit(0 if any(d.platform == "gpu" for d in jax.devices()) else 1)' 2>/dev/null; then
  out=$("$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend naive --peers jax-cuda \
    --quiet --results "$tmp/g.json" 2>&1)
  rc=$?
  { [ $rc = 0 ] && grep -q "peer jax-cuda skipped: no cuda device for JAX" <<<"$out"; } && ok ||
    { echo "FAIL: jax-cuda without a GPU (exit $rc):"; echo "$out"; fail=1; }
fi
torch_py=
for c in "$py" "$venv" python3 /usr/bin/python3; do
  "$c" -c 'import numpy, torch' >/dev/null 2>&1 && torch_py=$c && break
done
if [ -z "$torch_py" ]; then
  out=$("$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend naive \
    --peers torch-cuda,torch-fused --quiet --results "$tmp/t.json" 2>&1)
  rc=$?
  { [ $rc = 0 ] && grep -q 'peer torch-cuda skipped: no python that can "import numpy, torch"' <<<"$out" &&
    grep -q 'peer torch-fused skipped: no python' <<<"$out"; } && ok ||
    { echo "FAIL: torch peers without PyTorch (exit $rc):"; echo "$out"; fail=1; }
fi
# 5. a peer that used more CPUs than its threads is flagged: a peer whose epochs report three
# times their wall time in CPU time, at --threads 1
cat >"$tmp/greedy.py" <<'PY'
import json, os, runpy, sys
sys.argv[0] = os.environ["MLPB_REAL_PEER"]
try:
    runpy.run_path(os.environ["MLPB_REAL_PEER"], run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
d = sys.argv[sys.argv.index("--run") + 1]
r = json.load(open(os.path.join(d, "peer.json")))
r["epoch_cpu_seconds"] = [3 * s for s in r["epoch_seconds"]]
json.dump(r, open(os.path.join(d, "peer.json"), "w"))
PY
out=$(MLPBENCH_PEER_SCRIPT=$tmp/greedy.py MLPB_REAL_PEER=$here/../workloads/reference/peer.py \
  "$bin" bench --workload mnist --data synthetic:300 --epochs 3 --backend naive --peers numpy \
  --threads 1 --quiet --results "$tmp/o.json" 2>&1)
rc=$?
{ [ $rc = 0 ] && grep -q "peer numpy used 3.00 CPUs per epoch, given 1 threads" <<<"$out" &&
  MLPB_RESULTS=$tmp/o.json "$py" -c '
import json, os, sys
rows = {x["backend"]: x for x in json.load(open(os.environ["MLPB_RESULTS"]))["workloads"][0]["results"]}
sys.exit(0 if rows["numpy"]["over_threads"] and not rows["naive"]["over_threads"] else 1)'; } && ok ||
  { echo "FAIL: a peer over its threads not flagged (exit $rc):"; echo "$out"; fail=1; }
echo "$passed passed, $fail failed"
exit $fail
