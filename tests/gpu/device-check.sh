#!/usr/bin/env bash
# device-check.sh: the one prepared run for a lent GPU machine (H100 or H200, CUDA 13, no
# network, no apt). Before the call, run harness/scripts/gpu-prepare.sh here, then call the
# device tool with carry [".gpu-deps", ".gpu-data"] and command "bash tests/gpu/device-check.sh",
# timeout about 480 s (it must finish in under 7 minutes; every step has its own time limit).
# Steps: build for sm_90; ctest of what a GPU adds (test_cuda: fp32 gradients, the TF32 rule
# and its planted bugs; test_backends and test_train: both cuda paths, cublas and fused,
# against float64 and naive, resident training with short batches and no zero_grad);
# gradcheck on each path; compute-sanitizer memcheck on a short training run of each path
# and of the toy net's one-warp kernel, racecheck and synccheck on the fused epoch; bench of
# the classifier (tutorial sampling, 468 batches of 128) on cuda/cublas with blas, its GEMM
# floors and PyTorch on the same GPU (eager, one CUDA graph per step), then cuda/fused alone;
# the toy net on both paths; an Nsight Compute breakdown of the fused kernels
# (--clock-control none); the sweep at batch 128 against bench; the fused step's tunables
# swept (MLPBENCH_FUSED_SLICE x MLPBENCH_FUSED_SPLIT, no rebuild), each point's measured step
# beside fused_model.py's prediction and, where ncu exists, Nsight Compute's SM and shared-
# memory pipe utilisation of the epoch kernel (at most 100 s, its own budget: points past it
# are left out, so the whole still fits the 480 s timeout above). A short table last; full
# logs under $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
T0=$(date +%s)
status=()
step() { # step NAME LOG LIMIT COMMAND...: runs (at most LIMIT s), records pass/FAIL and seconds
  local name=$1 log=$2 limit=$3 t=$(date +%s)
  shift 3
  timeout "$limit" "$@" >>"$OUT/$log" 2>&1
  local rc=$?
  status+=("$(printf '%-22s %-5s %4ss  %s' "$name" "$([ $rc = 0 ] && echo pass || echo FAIL)" \
    $(($(date +%s) - t)) "$log (rc $rc)")")
  return $rc
}

if [ -d .gpu-deps ] && ls .gpu-deps/*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/mlpb-deps
  for f in .gpu-deps/*.deb; do dpkg -x "$f" /tmp/mlpb-deps; done
  export CMAKE_PREFIX_PATH=/tmp/mlpb-deps/usr
  export LD_LIBRARY_PATH=/tmp/mlpb-deps/usr/lib/x86_64-linux-gnu:/tmp/mlpb-deps/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}
fi
DATA=synthetic:60000
if [ -f .gpu-data/fashion/train-images-idx3-ubyte.gz ]; then
  export MLPBENCH_FASHION_DIR=$PWD/.gpu-data/fashion
  DATA=fashion
fi
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -1
  nproc
} >"$OUT/machine.txt" 2>&1

step configure build.log 60 cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release \
  -DMLPBENCH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 &&
  step build build.log 150 cmake --build build-gpu -j16
B=build-gpu/mlpbench
FUSED_TRAIN=(train --backend cuda --path fused --limit 3000 --epochs 1 --quiet)
if [ -x "$B" ]; then
  step ctest ctest.log 120 bash -c "cd build-gpu && ctest --output-on-failure -j4 -V \
    -R 'test_cuda|test_backends|test_train'"
  step list list.log 20 "$B" list
  step gradcheck-fp32 gradcheck.log 60 "$B" gradcheck --data "$DATA" --limit 20000
  step gradcheck-fused gradcheck-fused.log 40 "$B" gradcheck --backend cuda --path fused \
    --data "$DATA" --limit 20000
  step gradcheck-tf32 gradcheck-tf32.log 40 "$B" gradcheck --backend cuda --tf32 --workload mnist \
    --data "$DATA" --limit 20000
  if command -v compute-sanitizer >/dev/null; then
    CS=(compute-sanitizer --error-exitcode 9)
    step memcheck memcheck.log 60 "${CS[@]}" --tool memcheck --leak-check full \
      "$B" train --backend cuda --limit 3000 --epochs 1 --quiet
    step memcheck-fused memcheck-fused.log 60 "${CS[@]}" --tool memcheck --leak-check full \
      "$B" "${FUSED_TRAIN[@]}"
    step memcheck-toy memcheck-toy.log 40 "${CS[@]}" --tool memcheck "$B" train --workload toy \
      --backend cuda --path fused --epochs 500 --quiet
    step racecheck-fused racecheck.log 90 "${CS[@]}" --tool racecheck "$B" train --backend cuda \
      --path fused --limit 600 --epochs 1 --quiet
    step synccheck-fused synccheck.log 60 "${CS[@]}" --tool synccheck "$B" "${FUSED_TRAIN[@]}"
  fi
  step bench bench.log 100 "$B" bench --workload mnist --data "$DATA" --sampling tutorial \
    --backend cuda,blas --repeat 3 --peers torch-cuda,torch-cuda-graph,jax-cuda --quiet \
    --results "$OUT/bench.json"
  step bench-fused bench-fused.log 40 "$B" bench --workload mnist --data "$DATA" \
    --sampling tutorial --backend cuda --path fused --repeat 3 --quiet \
    --results "$OUT/bench-fused.json"
  step bench-toy bench-toy.log 30 "$B" bench --workload toy --backend cuda,naive --quiet
  step bench-toy-fused bench-toy-fused.log 30 "$B" bench --workload toy --backend cuda \
    --path fused --quiet
  if command -v ncu >/dev/null; then
    step ncu-fused ncu.log 90 ncu --clock-control none --kernel-name regex:'fused|tiny' \
      --launch-count 4 --section SpeedOfLight --section Occupancy --section LaunchStats \
      "$B" "${FUSED_TRAIN[@]}"
  fi
  step sweep sweep.log 60 "$B" bench --workload mnist --data "$DATA" --limit 20000 --backend cuda \
    --epochs 3 --sweep --quiet --results "$OUT/sweep.json"
  # the fused tunables: slice width x blocks per slice ("" = the plan's default), most telling
  # first; each a bench of 3 tutorial epochs and one ncu pass over a short run (estimated
  # 15 s a point, not yet timed on a GPU)
  TUNE_T0=$(date +%s)
  for pt in 16: 8:4 32:4 16:2 16:8 8:8; do
    [ $(($(date +%s) - TUNE_T0)) -gt 60 ] && break # 60 s, then at most one 40 s point: 100 s
    sl=${pt%:*} sp=${pt#*:}
    env MLPBENCH_FUSED_SLICE=$sl MLPBENCH_FUSED_SPLIT=$sp timeout 20 "$B" bench --workload mnist \
      --data "$DATA" --sampling tutorial --backend cuda --path fused --repeat 3 --quiet \
      --results "$OUT/tune-$sl-${sp:-d}.json" >>"$OUT/tune.log" 2>&1
    if command -v ncu >/dev/null; then
      env MLPBENCH_FUSED_SLICE=$sl MLPBENCH_FUSED_SPLIT=$sp timeout 20 ncu --clock-control none \
        --kernel-name regex:fused_epoch --launch-count 1 --csv --metrics \
        gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_elapsed \
        "$B" train --backend cuda --path fused --data "$DATA" --limit 3000 --epochs 1 --quiet \
        >"$OUT/tune-$sl-${sp:-d}.ncu.csv" 2>>"$OUT/tune.log"
    fi
  done
  status+=("$(printf '%-22s %-5s %4ss  %s' tune-fused done $(($(date +%s) - TUNE_T0)) tune.log)")
fi

echo "== machine"; cat "$OUT/machine.txt"
echo "== steps (total $(($(date +%s) - T0)) s)"; printf '%s\n' "${status[@]}"
echo "== gradcheck (cublas, fused, tf32)"
grep -E '^\| (naive|blas|cuda) ' "$OUT/gradcheck.log" "$OUT/gradcheck-fused.log" \
  "$OUT/gradcheck-tf32.log" 2>/dev/null
echo "== compute-sanitizer"
grep -E 'ERROR SUMMARY|LEAK SUMMARY|RACECHECK SUMMARY' "$OUT"/memcheck*.log "$OUT"/racecheck.log \
  "$OUT"/synccheck.log 2>/dev/null
echo "== paths"; grep -E 'path' "$OUT/list.log" 2>/dev/null
echo "== classifier epoch ($DATA, tutorial sampling, 468 x 128): cublas with peers, then fused"
grep -E '^\| (backend|cuda|blas|torch-cuda|torch-cuda-graph|jax-cuda) |peer jax-cuda' "$OUT/bench.log" 2>/dev/null
grep -E '^\| cuda ' "$OUT/bench-fused.log" 2>/dev/null
echo "== toy: cublas, then the one-warp kernel"
grep -E '^\| (cuda|naive) ' "$OUT/bench-toy.log" "$OUT/bench-toy-fused.log" 2>/dev/null
echo "== Nsight Compute (fused kernels)"
grep -E '^  [a-z_]+kernel|Duration|Compute \(SM\) Throughput|Memory Throughput|L2 Cache Throughput|Achieved Occupancy|Registers Per' \
  "$OUT/ncu.log" 2>/dev/null | head -40
echo "== TF32 rule (test_cuda)"; grep -E 'cuda .*tf32=1' "$OUT/ctest.log" 2>/dev/null
echo "== the fused step's tunables: measured (bench median / 468 steps) against fused_model.py"
python3 - "$OUT" "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)" <<'PY' 2>&1
import csv, glob, json, os, re, subprocess, sys
out, gpu = sys.argv[1], sys.argv[2]
dev = "H200" if "H200" in gpu else "H100" if "H100" in gpu else "A100" if "A100" in gpu else "H200"
print(f"model device: {dev} ({gpu or 'unknown GPU'})")
print("| slice | split | path | measured step (us) | predicted (us) | measured / predicted | SM % | FMA pipe % | shared wavefronts % |")
print("|---|---|---|---|---|---|---|---|---|")
for f in sorted(glob.glob(os.path.join(out, "tune-*.json"))):
    sl, sp = re.match(r".*tune-(\d+)-(\w+)\.json", f).groups()
    try:
        w = json.load(open(f))["workloads"][0]
        r = w["results"][0]
        step = r["median"] / 468 * 1e6
        path = r.get("path", "")
    except Exception as e:
        print(f"| {sl} | {sp} | no result ({e}) | | | | | | |")
        continue
    m = re.search(r"(\d+) per slice", path)
    split = m.group(1) if m else ("0" if sp == "d" else sp)
    pred = subprocess.run([sys.executable, "tests/gpu/fused_model.py", "--kernel", "new", "--device", dev,
                           "--slice", sl, "--split", split, "--csv"], capture_output=True, text=True).stdout.split(",")
    p = float(pred[2]) if len(pred) > 3 and pred[2] else float("nan")
    util = {}
    nf = f[:-5] + ".ncu.csv"
    if os.path.exists(nf):
        rows = [l for l in open(nf) if l.startswith('"')]
        for row in csv.DictReader(rows):
            util[row.get("Metric Name", "")] = row.get("Metric Value", "")
    g = lambda k: util.get(k, "-")
    print(f"| {sl} | {split} | {path} | {step:.2f} | {p:.2f} | {step / p:.2f} | "
          f"{g('sm__throughput.avg.pct_of_peak_sustained_elapsed')} | "
          f"{g('sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active')} | "
          f"{g('l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_elapsed')} |")
PY
echo "== sweep at batch 128 against bench (the same run)"
python3 - "$OUT/sweep.json" <<'PY' 2>/dev/null
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
for r in w["results"]:
    pts = [s for s in w["sweep"] if s["backend"] == r["backend"] and s["param"] == "batch" and s["value"] == 128]
    if pts:
        print(f'{r["backend"]}: bench {r["median"]*1e3:.2f} ms, sweep {pts[0]["seconds_per_epoch"]*1e3:.2f} ms, ratio {pts[0]["seconds_per_epoch"]/r["median"]:.3f}')
PY
