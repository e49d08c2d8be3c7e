#!/usr/bin/env bash
# run-fuzz.sh [RUNS|SECONDSs]: builds the libFuzzer targets with clang (ASan + UBSan) in
# build-fuzz and runs each one from its seed corpus: for RUNS executions (default 10000000)
# or, as "60s", for that many seconds. A crash stops the script with the input saved under
# tests/fuzz/regress/TARGET/, where the replay tests keep running it from then on.
set -uo pipefail
cd "$(dirname "$0")/../.."
limit=${1:-10000000}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DMLPBENCH_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >/dev/null || exit 2
cmake --build build-fuzz -j2 --target fuzz_idx fuzz_png fuzz_csv fuzz_results fuzz_argv fuzz_conform fuzz_plan >/dev/null || exit 2
case "$limit" in
*s) arg="-max_total_time=${limit%s}" ;;
*) arg="-runs=$limit" ;;
esac
rc=0
logs=$(mktemp -d /tmp/mlpbench-fuzz-XXXXXX)
for t in idx png csv results argv conform plan; do
  work=$(mktemp -d)
  mkdir -p "tests/fuzz/regress/$t" # git keeps no empty folder
  maxlen=4096
  [ $t = results ] && maxlen=16384
  # the command line trains: a unit of a few seconds is no finding, only a crash is
  ./build-fuzz/fuzz_$t $arg -max_len=$maxlen -print_final_stats=1 -report_slow_units=600 \
    -artifact_prefix="$PWD/tests/fuzz/regress/$t/" "$work" "$PWD/tests/fuzz/corpus/$t" >"$logs/$t.log" 2>&1
  r=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$')
  echo "fuzz_$t: ${runs:-?} executions, exit $r$([ $r != 0 ] && echo ' (CRASH: input kept in tests/fuzz/regress/'$t'/)')"
  [ $r = 0 ] || { tail -30 "$logs/$t.log"; rc=1; }
  grep -E '^#[0-9]+.*DONE' "$logs/$t.log" | tail -1
  rm -rf "$work"
done
echo "full logs: $logs"
exit $rc
