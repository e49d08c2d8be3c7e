#!/usr/bin/env bash
# issue24-thread-fit.sh PHASE ROUNDS WORKLOAD THREADS LABEL=BIN[:VAR=VALUE][#THREADS]...
# One phase of issue 24's measurement of the thread fit and wait policy. Each round runs every
# candidate once as its own `bench` process, the order reversed on even rounds (ABBA), so drift
# hits every candidate; PHASE "loaded" starts one busy loop per core first. One line per run:
#   label round loadavg1 blas_median blas_median_of_full_thread_samples sample_threads naive_median disturbed
set -u
phase=$1 rounds=$2 wl=$3 threads=$4
shift 4
cands=("$@")
case $wl in
cls) args=(--workload mnist --limit 3000 --epochs 6 --backend naive,blas) ;;
fashion) args=(--workload mnist --data fashion --sampling tutorial --epochs 4 --backend blas) ;;
*) echo "workload cls|fashion" >&2; exit 2 ;;
esac
busy=()
if [ "$phase" = loaded ]; then
  for _ in $(seq "$(nproc)"); do sh -c 'while :; do :; done' & busy+=($!); done
  trap 'kill "${busy[@]}" 2>/dev/null' EXIT
  sleep 2
fi
f=$(mktemp /tmp/thread-fit-XXXXXX.json)
n=${#cands[@]}
for r in $(seq 1 "$rounds"); do
  order=$(seq 0 $((n - 1)))
  [ $((r % 2)) = 0 ] && order=$(seq $((n - 1)) -1 0)
  for k in $order; do
    c=${cands[$k]} t=$threads
    case $c in *"#"*) t=${c##*#} c=${c%#*} ;; esac
    label=${c%%=*} rest=${c#*=}
    bin=${rest%%:*} envs=()
    [ "$bin" != "$rest" ] && envs=("${rest#*:}")
    load=$(cut -d' ' -f1 /proc/loadavg)
    env "${envs[@]}" "$bin" bench "${args[@]}" --threads "$t" --quiet --results "$f" >/dev/null 2>&1 ||
      { echo "run failed: $c" >&2; continue; }
    python3 - "$f" "$label" "$r" "$load" <<'PY'
import json, statistics, sys
f, label, r, load = sys.argv[1:]
rows = {x["backend"]: x for x in json.load(open(f))["workloads"][0]["results"]}
b, nv = rows["blas"], rows.get("naive")
th = b.get("sample_threads") or []
full = [s for s, t in zip(b["epoch_seconds"], th) if t == max(th)] if th else b["epoch_seconds"]
print(label, r, load, "%.2f" % (1e3 * b["median"]), "%.2f" % (1e3 * statistics.median(full)),
      ",".join("%g" % t for t in th) or "-", "%.2f" % (1e3 * nv["median"]) if nv else "-",
      "disturbed" if b.get("disturbed") else "quiet")
PY
  done
done
rm -f "$f"
