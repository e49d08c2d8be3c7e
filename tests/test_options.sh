#!/usr/bin/env bash
# test_options.sh MLPBENCH PLUGDIR: the one option table (harness/run/options.c). A plan file
# (bench-process) is checked by the same code as a command line; an option a workload does not
# take is refused; --epochs under --workload all leaves the toy net as the tutorial wrote it;
# every command parses through the table; outputs are fixed before a plugin's code runs.
set -u
bin=$1
plugdir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# plan NAME JSON-OPTIONS: a bench-process plan whose options are the table's
plan() {
  mkdir -p "$tmp/plans"
  printf '{"schema": "mlpbench-plan-3", "options": {%s}}\n' "$2" >"$tmp/plans/$1.json"
}
good='"backend": "naive", "workload": "toy", "epochs": 4, "block": 1, "quiet": true'

plan ok "$good, \"results\": \"$tmp/ok-results.json\""
"$bin" bench-process "$tmp/plans/ok.json" >/dev/null 2>&1
check "a valid plan runs (exit 0)" test $? = 0
check "... and writes its results" test -s "$tmp/ok-results.json"

plan lr0 "$good, \"lr\": \"0\", \"results\": \"$tmp/lr0.json\""
expect 2 "a plan with lr 0 is refused as --lr 0 is" "--lr must be a positive number" -- \
  "$bin" bench-process "$tmp/plans/lr0.json"
plan lrneg "$good, \"lr\": -0.5, \"results\": \"$tmp/lrneg.json\""
expect 2 "a plan with a negative lr is refused" "--lr must be a positive number" -- \
  "$bin" bench-process "$tmp/plans/lrneg.json"
check "... and writes nothing" test ! -e "$tmp/lr0.json" -a ! -e "$tmp/lrneg.json"

plan peer "$good, \"peers\": \"../x\", \"results\": \"$tmp/peer.json\""
expect 2 "a plan naming ../x as a peer is refused" "--peers: unknown name '../x'" -- \
  "$bin" bench-process "$tmp/plans/peer.json"
plan peer2 "$good, \"peers\": \"numpy,numpy\", \"results\": \"$tmp/peer2.json\""
expect 2 "a plan naming a peer twice is refused" "a name twice" -- \
  "$bin" bench-process "$tmp/plans/peer2.json"

plan dup "\"backend\": \"naive,naive\", \"workload\": \"toy\", \"epochs\": 4, \"results\": \"$tmp/dup.json\""
expect 2 "a plan naming a backend twice is refused" "a name twice" -- \
  "$bin" bench-process "$tmp/plans/dup.json"

# 2^32 + 3 would be 3 epochs once cut to an int: the whole value is range-checked first
plan trunc "$good, \"repeat\": 4294967299, \"results\": \"$tmp/trunc.json\""
expect 2 "a plan's integer is range-checked before any truncation" \
  "--repeat must be an integer in 1..1000 \(got '4294967299'\)" -- "$bin" bench-process "$tmp/plans/trunc.json"
plan real "$good, \"repeat\": 2.5, \"results\": \"$tmp/real.json\""
expect 2 "a plan's integer that is not whole is refused" "--repeat must be an integer" -- \
  "$bin" bench-process "$tmp/plans/real.json"

echo previous >"$tmp/same.json"
plan same "$good, \"results\": \"$tmp/same.json\", \"markdown\": \"$tmp/./same.json\""
expect 2 "a plan whose markdown is its results file is refused" \
  "--markdown .* is the results file" -- "$bin" bench-process "$tmp/plans/same.json"
check "... and the results file is untouched" test "$(cat "$tmp/same.json")" = previous
mkdir "$tmp/adir"
plan dest "$good, \"results\": \"$tmp/adir\""
expect 2 "a plan whose results file is a folder is refused" "adir" -- \
  "$bin" bench-process "$tmp/plans/dest.json"

plan unknown "$good, \"frobnicate\": 1, \"results\": \"$tmp/unk.json\""
expect 2 "a plan with a key that is no option is refused" "'frobnicate' has no place in a plan" -- \
  "$bin" bench-process "$tmp/plans/unknown.json"
plan conform "$good, \"time-limit\": 5, \"results\": \"$tmp/unk.json\""
expect 2 "a plan with an option plans do not carry is refused" "'time-limit' has no place" -- \
  "$bin" bench-process "$tmp/plans/conform.json"
plan kind "$good, \"sweep\": \"yes\", \"results\": \"$tmp/unk.json\""
expect 2 "a plan with a flag of the wrong kind is refused" "wrong kind" -- \
  "$bin" bench-process "$tmp/plans/kind.json"

# an option a workload does not take
expect 2 "toy refuses --batch" "--batch does not apply to workload toy" -- \
  "$bin" train --workload toy --batch 64 --backend naive
expect 2 "toy refuses --sampling" "--sampling does not apply to workload toy" -- \
  "$bin" bench --workload toy --sampling tutorial --backend naive --results "$tmp/x.json"
expect 2 "a named classifier refuses the toy's --block" "--block does not apply to workload mnist" -- \
  "$bin" bench --workload mnist --block 3 --backend naive --results "$tmp/x.json"
plan toybatch "\"backend\": \"naive\", \"workload\": \"toy\", \"batch\": 64, \"results\": \"$tmp/tb.json\""
expect 2 "... and so does a plan" "--batch does not apply to workload toy" -- \
  "$bin" bench-process "$tmp/plans/toybatch.json"

# --epochs under --workload all: the classifier's; the toy net keeps its 5000 (and says so)
"$bin" bench --backend naive --data synthetic:300 --epochs 2 --results "$tmp/all.json" \
  >/dev/null 2>"$tmp/all.err"
check "bench --epochs 2 (workload all) runs (exit 0)" test $? = 0
check "... the classifier runs 2 epochs, the toy net its own 5000" python3 -c "
import json, sys
e = {w['name']: w['epochs'] for w in json.load(open('$tmp/all.json'))['workloads']}
sys.exit(not (e == {'mnist': 2, 'toy': 5000}))"
check "... and says where --epochs does not apply" \
  grep -q "note: --epochs applies to mnist; toy keeps its own" "$tmp/all.err"
"$bin" bench --backend naive --workload toy --epochs 20 --results "$tmp/toy.json" >/dev/null 2>&1
check "a named toy takes --epochs" python3 -c "
import json, sys
sys.exit(json.load(open('$tmp/toy.json'))['workloads'][0]['epochs'] != 20)"

# every command parses through the table
expect 2 "compare: an unknown option" "unknown option '--frob'" -- "$bin" compare --frob a b
expect 2 "compare: a value out of the table's range" "--alpha must be in \(0, 1\)" -- \
  "$bin" compare --alpha 1.5 "$tmp/toy.json" "$tmp/toy.json"
expect 2 "compare: a choice not in the table" "--metric is wall \| cpu" -- \
  "$bin" compare --metric gpu "$tmp/toy.json" "$tmp/toy.json"
expect 2 "compare: a third file" "unexpected argument" -- \
  "$bin" compare "$tmp/toy.json" "$tmp/toy.json" "$tmp/toy.json"
expect 0 "compare --help lists its options from the table" "--allow-inconclusive" -- \
  "$bin" compare --help
expect 2 "report: an option without its value" "option '--images' needs a value" -- \
  "$bin" report "$tmp/toy.json" --images
expect 2 "report: an option of another command" "unknown option '--alpha'" -- \
  "$bin" report "$tmp/toy.json" --alpha 0.1
expect 2 "history: --since out of range" "--since must be an integer in 1..1000000" -- \
  "$bin" history --since 0 "$tmp/toy.json"
expect 2 "plot: a second file" "a second file" -- "$bin" plot "$tmp/toy.json" "$tmp/all.json"
expect 2 "export: --format native" "--format must be gbench, github or bmf" -- \
  "$bin" export "$tmp/toy.json" --format native

# parsing loads nothing: a bad --backend-lib after --help is never loaded
expect 0 "--help loads no plugin" "usage: mlpbench bench" -- \
  "$bin" bench --backend-lib /nonexistent.so --help

# outputs are fixed before a plugin's code runs: one that moves the process elsewhere as it
# loads does not move the results
if [ -e "$plugdir/plug_chdir.so" ]; then
  mkdir -p "$tmp/here" "$tmp/elsewhere"
  (cd "$tmp/here" && PLUG_CHDIR_TO="$tmp/elsewhere" "$bin" bench --backend-lib "$plugdir/plug_chdir.so" \
    --backend naive,chdir --workload toy --epochs 4 --block 1 --quiet --results out/r.json \
    --markdown out/r.md >/dev/null 2>&1)
  check "a plugin's chdir: bench still exits 0" test $? = 0
  check "... the results land where they were named" test -s "$tmp/here/out/r.json" -a -s "$tmp/here/out/r.md"
  check "... and nothing where the plugin moved" test ! -e "$tmp/elsewhere/out"
else
  skipped "no plug_chdir.so in $plugdir"
fi

finish
