#!/usr/bin/env bash
# test_cli.sh MLPBENCH: the command line's exit codes and messages, as a user meets them.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

expect 2 "no command" "usage: mlpbench" -- "$bin"
expect 0 "--help" "exit codes" -- "$bin" --help
expect 2 "unknown command" "unknown command 'frobnicate'" -- "$bin" frobnicate
expect 0 "list" "naive +available" -- "$bin" list
expect 0 "subcommand help" "--sampling" -- "$bin" bench --help
expect 2 "unknown flag" "unknown option '--fast'" -- "$bin" train --fast
expect 2 "flag of another command" "unknown option '--out'" -- "$bin" train --out x
expect 2 "missing value" "needs a value" -- "$bin" train --epochs
expect 2 "bad number" "--epochs must be an integer" -- "$bin" train --epochs 0
expect 2 "bad workload" "--workload: unknown name 'cnn' \(mnist, toy, wide, all\)" -- "$bin" train --workload cnn
expect 2 "bad sampling" "--sampling is shuffle \| tutorial, got 'sometimes'" -- "$bin" bench --sampling sometimes
expect 2 "unknown backend" "unknown backend 'tpu' \(see mlpbench list; a plugin's backend exists only once --backend-lib loads it\)" -- "$bin" train --backend tpu
expect 2 "a slip of the keys suggests the nearest name" "unknown backend 'blsa': did you mean 'blas'\?" -- \
  "$bin" train --backend blsa --workload toy
expect 2 "a peer named as a backend says so" "'numpy' is a peer, not a backend: name it with --peers" -- \
  "$bin" train --backend numpy --workload toy
expect 2 "stray argument" "unexpected argument 'extra'" -- "$bin" gradcheck extra
expect 2 "missing data" "/nonexistent: no such file" -- "$bin" train --data /nonexistent
expect 2 "empty data folder" "no train-images-idx3-ubyte" -- "$bin" train --data "$tmp"
printf 'not idx at all' >"$tmp/train-images-idx3-ubyte"
printf '\0\0\10\1\0\0\0\1\7' >"$tmp/train-labels-idx1-ubyte"
expect 2 "corrupt IDX" "train-images-idx3-ubyte: not an IDX file" -- "$bin" train --data "$tmp"
expect 2 "hidden 0" "--hidden must be" -- "$bin" train --hidden 0
expect 2 "batch larger than the data" "batch 512 is larger" -- \
  "$bin" train --data synthetic:300 --batch 512
expect 2 "element counts that overflow" "too large" -- \
  "$bin" train --data synthetic:300 --hidden 65536 --batch 200000
expect 2 "bad synthetic size" "synthetic size must be" -- "$bin" train --data synthetic:0
if "$bin" list | grep -q '^cuda .*unavailable'; then # on a GPU machine cuda is available
  expect 3 "backend named but unavailable" "backend cuda unavailable" -- \
    "$bin" train --backend cuda --workload toy
  # built with CUDA but no driver: say so, not "driver insufficient"
  if ! ldconfig -p | grep -q 'libcuda\.so\.1' && ! "$bin" list | grep -q '^cuda .*not built'; then
    expect 3 "no driver is named as no driver" "no NVIDIA driver or GPU on this machine" -- \
      "$bin" train --backend cuda --workload toy
  fi
fi
expect 2 "--path takes one path, not a list" "--path 'fused,cublas': takes one path: run once per path" -- \
  "$bin" train --backend naive --path fused,cublas --workload toy
expect 2 "a path no chosen backend offers" "none of the chosen backends offers a choice of path" -- \
  "$bin" train --backend naive --path fused --workload toy
if "$bin" list | grep -qE '^cuda-emu +available'; then # built with the HIP CPU runtime
  expect 0 "list says what cuda-emu is" "emulated: runs on the CPU to prove the kernels" -- "$bin" list
  expect 2 "bench refuses to time the emulation" "cuda-emu runs device code in an emulator" -- \
    "$bin" bench --backend naive,cuda-emu --workload toy
  expect 2 "an unknown path is named with the known ones" "has no path 'fast' \(its paths: fused,cublas\)" -- \
    "$bin" train --backend cuda-emu --path fast --workload toy
  expect 0 "cuda-emu is in no default list" "^\| naive \|" -- "$bin" train --workload toy --epochs 10
  out=$("$bin" train --workload toy --epochs 10 2>&1)
  if grep -q "cuda-emu" <<<"$out"; then
    fail=$((fail + 1))
    echo "FAIL: a default backend list ran cuda-emu"
  else
    pass=$((pass + 1))
  fi
  expect 0 "the toy net trains in one warp (emulated)" "predicted: \[0\.9[0-9]+, 0\.9[0-9]+, 0\.0" -- \
    "$bin" train --workload toy --backend cuda-emu --path fused
  expect 0 "train shows no emulated time" "\| cuda-emu \| .* emulated, not timed \|" -- \
    "$bin" train --data synthetic:600 --epochs 1 --backend cuda-emu --path cublas
  expect 0 "gradcheck runs the emulated fused path" "\| cuda-emu +\| .* pass \|" -- \
    "$bin" gradcheck --data synthetic:600 --backend cuda-emu --path fused
fi
expect 2 "warm-up eats every sample" "leaves no timed samples" -- \
  "$bin" bench --workload mnist --epochs 1 --data synthetic:300
expect 0 "gradcheck passes" "\| naive +\| .* pass \|" -- "$bin" gradcheck --data synthetic:600 --fd-samples 2
expect 0 "toy trains as in the tutorial" "predicted: \[0\.9[0-9]+, 0\.9[0-9]+, 0\.0" -- \
  "$bin" train --workload toy --backend naive
expect 0 "export-png" "wrote 200 images" -- "$bin" export-png --data synthetic:200 --out "$tmp/png"
expect 0 "train on CSV+PNG" "\| naive \| [0-9.]+ \| 0\.[0-9]+ \|" -- \
  "$bin" train --data "$tmp/png" --epochs 1 --batch 32 --backend naive
expect 0 "train on the CSV file itself" "naive +epoch 1" -- \
  "$bin" train --data "$tmp/png/train.csv" --epochs 1 --batch 32 --backend naive
expect 0 "bench table" "\| naive \| [0-9.]+ (us|ms|s) \|" -- \
  "$bin" bench --workload mnist --data synthetic:300 --epochs 2 --backend naive
expect 3 "divergence stops with epoch and step" "(diverged: loss is (NaN|infinite) at epoch 1, step|epoch 1: training diverged: loss is (NaN|infinite) at step [0-9])" -- \
  "$bin" train --data synthetic:600 --lr 1e30 --epochs 2 --backend naive
expect 2 "unwritable export" "/proc.*cannot (create folder|write there)" -- \
  "$bin" export-png --data synthetic:5 --out /proc/mlpbench-no
expect 0 "--version names the version and the commit" "^mlpbench [0-9]+\.[0-9]+ \(commit [0-9a-f]+|unknown" -- \
  "$bin" --version

# report and plot: their own messages for a stray argument; report's page lands beside its
# results file, never in a results/ folder of the current directory
"$bin" bench --workload toy --backend naive --epochs 2 --quiet --results "$tmp/rp.json" >/dev/null 2>&1
mkdir -p "$tmp/cwd"
(cd "$tmp/cwd" && "$bin" report "$tmp/rp.json" >/dev/null 2>&1)
check() { if "${@:2}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
check "report without --out writes beside the results file" test -s "$tmp/rp.html"
check "... and creates nothing in the current folder" test ! -e "$tmp/cwd/results"
expect 2 "plot: a second file is named as such" "a second file 'b.json': plot takes one" -- \
  "$bin" plot "$tmp/rp.json" b.json
expect 2 "report: an option without its value" "option '--out' needs a value" -- \
  "$bin" report "$tmp/rp.json" --out
expect 2 "report: an unknown option" "unknown option '--frob'" -- "$bin" report "$tmp/rp.json" --frob

# outputs are created as open(2) would: 0666 less the umask (077: nobody else may read them)
for m in 077:600 022:644; do
  (umask "${m%%:*}" && "$bin" bench --workload toy --backend naive --epochs 2 --quiet \
    --results "$tmp/um.json" --markdown "$tmp/um.md" >/dev/null 2>&1)
  if [ "$(stat -c %a "$tmp/um.json")" = "${m#*:}" ] && [ "$(stat -c %a "$tmp/um.md")" = "${m#*:}" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: umask ${m%%:*}: results $(stat -c %a "$tmp/um.json"), markdown $(stat -c %a "$tmp/um.md")"
  fi
  rm -f "$tmp/um.json" "$tmp/um.md"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
