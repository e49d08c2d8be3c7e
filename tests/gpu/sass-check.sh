#!/usr/bin/env bash
# sass-check.sh NVCC VENV: the fused kernels' machine code against the performance model.
# Compiles cuda_fused.cu for sm_90 into a cubin, disassembles it (cuobjdump -sass), and has
# sass_loops.py find each kernel's hot loops (the register micro-tiles of the products that
# touch W1) and fail when one does fewer FFMA per shared-memory load than fused_model.py
# assumes. cuobjdump: the CUDA toolkit's beside NVCC, else one on PATH, else PyPI's
# nvidia-cuda-cuobjdump (with nvidia-cuda-nvdisasm, which it runs) installed into the venv
# VENV in the build tree. Exits 77 (skipped) only when none of these can be had, 1 when a loop
# falls short, 2 when the compile fails. No GPU needed.
set -uo pipefail
nvcc=${1:?usage: sass-check.sh NVCC VENV}
venv=${2:?usage: sass-check.sh NVCC VENV}
here=$(cd "$(dirname "$0")/../.." && pwd)
py=$(command -v python3) || { echo "skipped: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

find_cuobjdump() {
  local d
  d=$(dirname "$(command -v "$nvcc" 2>/dev/null || echo "$nvcc")")
  if [ -x "$d/cuobjdump" ]; then echo "$d/cuobjdump"; return 0; fi
  if command -v cuobjdump >/dev/null; then command -v cuobjdump; return 0; fi
  for f in "$venv"/lib/python3*/site-packages/nvidia/cu*/bin/cuobjdump; do
    [ -x "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}
if ! cuobjdump=$(find_cuobjdump); then
  echo "sass-check: no cuobjdump; installing PyPI's into $venv"
  if ! { [ -x "$venv/bin/pip" ] || "$py" -m venv "$venv"; } ||
    ! "$venv/bin/pip" install -q nvidia-cuda-cuobjdump==13.4.92 nvidia-cuda-nvdisasm==13.5.37; then
    echo "skipped: no cuobjdump in the toolkit or on PATH, and PyPI's could not be installed"
    exit 77
  fi
  cuobjdump=$(find_cuobjdump) || { echo "skipped: the installed package has no cuobjdump"; exit 77; }
fi
# PyPI's cuobjdump runs the nvdisasm beside it
export PATH="$(dirname "$cuobjdump"):$PATH"

if ! "$nvcc" -std=c++17 -cubin -arch=sm_90 -o "$tmp/fused.cubin" "$here/impls/cuda/cuda_fused.cu" \
  >"$tmp/log" 2>&1; then
  echo "sass-check: cuda_fused.cu failed to compile for sm_90:" >&2
  cat "$tmp/log" >&2
  exit 2
fi
"$cuobjdump" -sass "$tmp/fused.cubin" >"$tmp/fused.sass" || { echo "sass-check: cuobjdump failed" >&2; exit 2; }
floor=$("$py" "$here/tests/gpu/fused_model.py" --assumed-ffma-per-lds)
echo "sass-check: $("$cuobjdump" --version | tail -1); floor $floor FFMA per shared load"
"$py" "$here/tests/gpu/sass_loops.py" "$tmp/fused.sass" --kernel 'fused_(forward|backward|epoch)_kernel' \
  --min "$floor"
