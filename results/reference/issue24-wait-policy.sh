#!/usr/bin/env bash
# issue24-wait-policy.sh PHASE ROUNDS WORKLOAD THREADS CANDIDATES...: one phase of issue 24's
# wait-policy measurement. Each round runs every candidate once, in an order rotated per round
# and reversed on even rounds (ABBA-like), so drift on a shared machine hits every candidate.
# A candidate is LABEL=BIN[:VAR=VALUE][#THREADS] (#THREADS overrides THREADS for it); PHASE
# "loaded" starts one busy loop per core first.
# Appends one line per run to $OUT (default /tmp/h3-wp/runs.tsv):
#   phase workload threads candidate round loadavg1 blas_median blas_floor naive_median
set -u
phase=$1 rounds=$2 wl=$3 threads=$4
shift 4
cands=("$@")
out=${OUT:-/tmp/h3-wp/runs.tsv}
mkdir -p "$(dirname "$out")"
case $wl in
cls) args=(--workload mnist --limit 3000 --epochs 4 --backend naive,blas) ;;
fashion) args=(--workload mnist --data fashion --sampling tutorial --epochs 3 --backend blas) ;;
*) echo "workload cls|fashion" >&2; exit 2 ;;
esac
busy=()
if [ "$phase" = loaded ]; then
  for i in $(seq 1 "$(nproc)"); do sh -c 'while :; do :; done' & busy+=($!); done
  trap 'kill "${busy[@]}" 2>/dev/null' EXIT
  sleep 2
fi
n=${#cands[@]}
for r in $(seq 1 "$rounds"); do
  order=()
  for k in $(seq 0 $((n - 1))); do order+=($(((k + r) % n))); done
  if [ $((r % 2)) = 0 ]; then order=($(printf '%s\n' "${order[@]}" | tac)); fi
  for k in "${order[@]}"; do
    c=${cands[$k]} t=$threads
    case $c in *"#"*) t=${c##*#} c=${c%#*} ;; esac
    label=${c%%=*} rest=${c#*=}
    bin=${rest%%:*} envs=()
    [ "$bin" != "$rest" ] && envs=("${rest#*:}")
    load=$(cut -d' ' -f1 /proc/loadavg)
    f=$(mktemp /tmp/h3-wp/run-XXXXXX.json)
    env "${envs[@]}" "$bin" bench "${args[@]}" --threads "$t" --quiet --results "$f" \
      >/dev/null 2>>/tmp/h3-wp/err.log || { echo "run failed: $c" >&2; continue; }
    python3 - "$f" "$phase" "$wl" "$t" "$label" "$r" "$load" >>"$out" <<'PY'
import json, sys
f, *tag = sys.argv[1:]
rows = {x["backend"]: x for x in json.load(open(f))["workloads"][0]["results"]}
b, nv = rows.get("blas", {}), rows.get("naive", {})
def ms(v): return "%.2f" % (1e3 * v) if isinstance(v, (int, float)) else "-"
print("\t".join(tag + [ms(b.get("median")), ms(b.get("gemm_floor")), ms(nv.get("median"))]))
PY
    rm -f "$f"
  done
done
