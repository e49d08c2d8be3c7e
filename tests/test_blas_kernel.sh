#!/usr/bin/env bash
# test_blas_kernel.sh MLPBENCH: the best kernel by default. Where OpenBLAS runs a generic
# kernel (forced here with OPENBLAS_CORETYPE=Prescott, as on a CPU its table does not know),
# bench re-runs itself with this CPU's kernel with no option given, checks its gradients, and
# the table and the results file say who chose the kernel; --blas-kernel default keeps the
# library's choice (issue "the CPU rows at the machine's limit", part 1).
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
if ! "$bin" list 2>/dev/null | grep -q "OpenBLAS"; then
  echo "skipped: blas is not built on OpenBLAS here"
  exit 77
fi
if ! grep -q -w -E "avx2|avx512f" /proc/cpuinfo; then
  echo "skipped: no AVX2 or AVX-512 here, so no kernel beats the generic one"
  exit 77
fi
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -1; }
run() { "$bin" bench --workload toy --epochs 1000 --backend blas --quiet "$@" 2>&1; }

out=$(OPENBLAS_CORETYPE=Prescott run --results "$tmp/auto.json")
k=$(field blas_kernel "$tmp/auto.json")
by=$(field blas_kernel_chosen_by "$tmp/auto.json")
check "no option: re-run with this CPU's kernel ($out)" grep -q "re-running with OPENBLAS_CORETYPE=" <<<"$out"
check "no option: the kernel that ran is not the generic one (kernel '$k')" \
  bash -c '[ -n "$0" ] && [ "$0" != Prescott ]' "$k"
check "no option: the results say mlpbench chose it ('$by')" bash -c '[[ "$0" == mlpbench* ]]' "$by"
check "no option: the table says so" grep -q "kernel $k (chosen by mlpbench" <<<"$out"
check "no option: the gradients were checked on that kernel" grep -q "| blas .*| pass (" <<<"$out"

out=$(OPENBLAS_CORETYPE=Prescott run --blas-kernel default --results "$tmp/def.json")
k=$(field blas_kernel "$tmp/def.json")
by=$(field blas_kernel_chosen_by "$tmp/def.json")
check "--blas-kernel default keeps the library's kernel (kernel '$k')" [ "$k" = Prescott ]
check "--blas-kernel default: no re-run" bash -c '! grep -q "re-running" <<<"$0"' "$out"
check "--blas-kernel default: the results say the library chose it ('$by')" \
  bash -c '[[ "$0" == "the library"* ]]' "$by"

out=$(run --results "$tmp/lib.json")
k=$(field blas_kernel "$tmp/lib.json")
by=$(field blas_kernel_chosen_by "$tmp/lib.json")
check "a kernel the library chose for this CPU stays ('$k' by '$by')" \
  bash -c '[ "$0" = "the library" ] && [ "$1" != Prescott ] && ! grep -q "re-running" <<<"$2"' \
  "$by" "$k" "$out"

# the machine's own peak, once per run, and each host row against it (part 3)
"$bin" bench --workload mnist --data synthetic:600 --epochs 2 --backend naive --quiet \
  --results "$tmp/naive.json" >"$tmp/naive.out" 2>&1
for f in lib naive; do
  check "$f: a machine peak, and each host row's fraction of it" python3 - "$tmp/$f.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
peak = r["context"]["machine_peak_gflops"]
assert peak and peak > 0 and r["context"]["machine_peak_by"].startswith("blas: cblas_sgemm"), r["context"]
for w in r["workloads"]:
    for row in w["results"]:
        want = row["gflops"] / peak
        assert math.isclose(row["peak_fraction"], want, rel_tol=1e-9), (row["backend"], row["peak_fraction"], want)
PY
done
check "the table shows the peak and the of-peak column" \
  bash -c 'grep -q "^Machine peak: .* GFLOP/s FP32 (blas: cblas_sgemm" "$0" && grep -q "| x floor | of peak |" "$0"' "$tmp/naive.out"
finish
