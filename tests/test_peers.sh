#!/usr/bin/env bash
# test_peers.sh MLPBENCH: numpy and PyTorch on the same run as the backends: their
# gradients must pass the float64 check and their loss curves follow naive's. Skips (77)
# when no python has torch (python3-torch, or make peers TORCH=1).
set -u
bin=$1
py=
for c in "${MLPBENCH_PYTHON:-}" "$(dirname "$bin")/peers-venv/bin/python" python3 /usr/bin/python3; do
  [ -n "$c" ] && "$c" -c 'import numpy, torch' >/dev/null 2>&1 && py=$c && break
done
[ -n "$py" ] || { echo "skipped: no python3 with numpy and torch (apt-get install python3-torch)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
out=$("$bin" gradcheck --peer numpy,torch --data synthetic:600 --fd-samples 2 2>&1)
for p in numpy torch; do
  n=$(grep -cE "^\| $p \(peer\) .* pass \|$" <<<"$out")
  [ "$n" = 2 ] || { echo "FAIL: $p gradients (both workloads):"; echo "$out"; fail=1; }
done
"$bin" bench --workload mnist --data synthetic:600 --epochs 3 --backend naive --peers numpy,torch \
  --quiet --results "$tmp/r.json" >"$tmp/out" 2>&1 || { echo "FAIL: bench --peers"; cat "$tmp/out"; fail=1; }
MLPB_RESULTS=$tmp/r.json "$py" - <<'PY' || fail=1
import json, os, sys
r = json.load(open(os.environ["MLPB_RESULTS"]))
rows = {x["backend"]: x for x in r["workloads"][0]["results"]}
ok = True
for p in ("numpy", "torch"):
    if p not in rows or not rows[p]["gradcheck"]["pass"]:
        print(f"FAIL: no passing {p} row"); ok = False; continue
    a, b = rows["naive"]["curves"]["loss"], rows[p]["curves"]["loss"]
    worst = max(abs(x - y) / x for x, y in zip(a, b))
    # same weights, same batches: fp32 rounding only (1e-3 relative after 3 epochs)
    if len(a) != len(b) or worst > 1e-3:
        print(f"FAIL: {p} loss curve {b} vs naive {a}"); ok = False
    print(f"{p}: loss curve within {worst:.1e} of naive")
    # the row says how it ran; FTZ is on (no --no-ftz), so PyTorch was told to flush, and did
    want = {"numpy": ("numpy ", "kept"), "torch": ("PyTorch ", "flushed")}[p]
    if not (rows[p]["framework"].startswith(want[0]) and rows[p]["subnormals"].startswith(want[1])):
        print(f"FAIL: {p} setup {rows[p]['framework']!r}, subnormals {rows[p]['subnormals']!r}"); ok = False
sys.exit(0 if ok else 1)
PY
# torch-fused and torch-compile: PyTorch 2 runs them and their gradients pass; an older one
# skips them with the reason, and the run goes on
if "$py" -c 'import torch, sys; sys.exit(0 if int(torch.__version__.split(".")[0]) >= 2 else 1)'; then
  out=$("$bin" gradcheck --workload mnist --peer torch-fused,torch-compile --data synthetic:300 \
    --fd-samples 2 2>&1)
  { [ "$(grep -cE '^\| torch-(fused|compile) \(peer\) .* pass \|$' <<<"$out")" = 2 ]; } ||
    { echo "FAIL: torch-fused, torch-compile gradients:"; echo "$out"; fail=1; }
else
  out=$("$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend naive \
    --peers torch-fused,torch-compile --quiet --results "$tmp/f.json" 2>&1)
  rc=$?
  { [ $rc = 0 ] && grep -q "peer torch-compile skipped: torch.compile needs PyTorch 2" <<<"$out" &&
    grep -q "peer torch-fused skipped: " <<<"$out"; } ||
    { echo "FAIL: torch-fused, torch-compile on PyTorch 1 (exit $rc):"; echo "$out"; fail=1; }
fi
# a peer that ran some other workload (here: it echoes another batch) is refused, not timed:
# exit 3 as for a failed backend; its row is kept, failed, with the reason
cat >"$tmp/liar.py" <<'PY'
import json, os, runpy, sys
sys.argv[0] = os.environ["MLPB_REAL_PEER"]
try:
    runpy.run_path(os.environ["MLPB_REAL_PEER"], run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
d = sys.argv[sys.argv.index("--run") + 1]
p = os.path.join(d, "peer.json")
r = json.load(open(p))
r["identity"]["batch"] = 64
json.dump(r, open(p, "w"))
PY
real=$(dirname "$0")/../workloads/reference/peer.py
out=$(MLPBENCH_PEER_SCRIPT=$tmp/liar.py MLPB_REAL_PEER=$real "$bin" bench --workload mnist \
  --data synthetic:300 --epochs 2 --backend naive --peers numpy --quiet --results "$tmp/l.json" 2>&1)
rc=$?
{ [ $rc = 3 ] && grep -q "the peer ran another workload: batch 128 in run.json, 64 in peer.json" <<<"$out" &&
  MLPB_RESULTS=$tmp/l.json "$py" -c '
import json, os, sys
rows = {x["backend"]: x for x in json.load(open(os.environ["MLPB_RESULTS"]))["workloads"][0]["results"]}
sys.exit(0 if rows["numpy"]["status"] == "failed" and "another workload" in rows["numpy"]["error"] else 1)'; } ||
  { echo "FAIL: a peer echoing another workload (exit $rc):"; echo "$out"; fail=1; }
# the GPU peers: without a device they are skipped with their reason, and bench goes on
if ! "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  out=$("$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend naive \
    --peers torch-cuda,torch-cuda-graph --quiet --results "$tmp/g.json" 2>&1)
  rc=$?
  { [ $rc = 0 ] && grep -q "peer torch-cuda skipped: no CUDA device" <<<"$out" &&
    grep -q "peer torch-cuda-graph skipped" <<<"$out"; } ||
    { echo "FAIL: GPU peers without a GPU (exit $rc):"; echo "$out"; fail=1; }
fi
[ $fail = 0 ] && echo "4 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
