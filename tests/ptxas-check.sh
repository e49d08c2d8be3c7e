#!/usr/bin/env bash
# ptxas-check.sh NVCC [ARCH...]: compiles the CUDA backend's kernels with `ptxas -v` for each
# architecture (default 80 90) and prints, per kernel, its registers, spill stores and loads,
# static shared memory and stack. Exits 1 if any kernel spills (the target is 0 everywhere),
# 2 if a compile fails. Needs nvcc only, no GPU. The figures are copied into
# docs/ARCHITECTURE.md by hand when the kernels change.
set -uo pipefail
nvcc=${1:?usage: ptxas-check.sh NVCC [ARCH...]}
shift
archs=("${@:-80}")
[ $# -eq 0 ] && archs=(80 90)
here=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
spills=0
printf '| kernel | sm | registers | spill stores | spill loads | smem (static) | stack |\n'
printf '|---|---|---|---|---|---|---|\n'
for a in "${archs[@]}"; do
  for f in cuda_fused.cu cuda_mlp.cu; do
    if ! "$nvcc" -std=c++17 -c -arch=sm_"$a" -Xptxas -v -o /dev/null "$here/impls/cuda/$f" >"$log" 2>&1; then
      echo "ptxas-check: $f failed to compile for sm_$a:" >&2
      cat "$log" >&2
      exit 2
    fi
    # ptxas prints: "Compiling entry function 'NAME'", "N bytes stack frame, S bytes spill
    # stores, L bytes spill loads", "Used R registers, ..., M bytes smem"
    while IFS='|' read -r name stack st ld regs smem; do
      printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$a" "$regs" "$st" "$ld" "$smem" "$stack"
      [ "$st" != 0 ] || [ "$ld" != 0 ] && spills=1
    done < <(awk '
      /Compiling entry function/ { match($0, /_ZN[0-9]+mlpb_cuda[0-9]+[A-Za-z_0-9]+/);
        s = substr($0, RSTART, RLENGTH); sub(/_ZN[0-9]+mlpb_cuda[0-9]+/, "", s);
        sub(/E.*/, "", s); name = s; next }
      name != "" && /bytes stack frame/ { st = $1; ss = $5; sl = $9; next }
      name != "" && /Used [0-9]+ registers/ { r = $0; sub(/.*Used /, "", r); sub(/ registers.*/, "", r);
        m = "0"; if (match($0, /[0-9]+ bytes smem/)) { m = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", m) }
        print name "|" st "|" ss "|" sl "|" r "|" m; name = "" }' "$log")
  done
done
if [ $spills = 1 ]; then
  echo "ptxas-check: a kernel spills registers (target: 0)" >&2
  exit 1
fi
echo "ptxas-check: no kernel spills"
