#!/usr/bin/env bash
# test_plugin_example.sh CMAKE BUILD EXAMPLE: what a user does with examples/plugin: install
# mlpbench into a prefix, build the example out of tree with its own Makefile and the
# installed pkg-config file only, run conform on it, and bench it beside naive: a gradient
# verdict and timings.
set -u
cmake=$1
build=$2
example=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
command -v pkg-config >/dev/null || { echo "skipped: no pkg-config"; exit 77; }
command -v make >/dev/null || { echo "skipped: no make"; exit 77; }

"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1
check "cmake --install into a prefix" test $? = 0
for f in bin/mlpbench include/mlpbench/mlp_backend.h include/mlpbench/mlp_plugin.h \
  include/mlpbench/common/cpu_mlp.h lib/libmlpbench_cpu.a lib/pkgconfig/mlpbench.pc; do
  check "installed $f" test -f "$tmp/prefix/$f"
done
# out of tree: a copy of the example, and nothing of the source tree on the include path
cp -r "$example" "$tmp/src"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" make -C "$tmp/src" >"$tmp/make.log" 2>&1
check "the example builds with its Makefile and pkg-config alone" test -f "$tmp/src/libmlp_example.so"
[ -f "$tmp/src/libmlp_example.so" ] || { cat "$tmp/make.log"; finish; exit; }
check "the example is under 200 lines" test "$(wc -l <"$tmp/src/example.c")" -lt 200

bin=$tmp/prefix/bin/mlpbench
"$bin" conform --backend-lib "$tmp/src/libmlp_example.so" --backend example >"$tmp/conform" 2>&1
check "the example passes conform" test $? = 0
check "... every check PASSED or NOT SUPPORTED" \
  bash -c "! grep -E '^example ' '$tmp/conform' | grep -qvE ' (PASSED|NOT SUPPORTED) '"
"$bin" bench --backend-lib "$tmp/src/libmlp_example.so" --backend naive,example \
  --data synthetic:300 --epochs 3 --quiet --results "$tmp/r.json" >"$tmp/out" 2>&1
check "the installed mlpbench benches the plugin" test $? = 0
row() { grep -qE "^\| example \| [0-9.]+ (ns|us|ms|s) \|" "$tmp/out"; }
check "the plugin's row has a median epoch time" row
check "... and a passing gradient verdict" bash -c "grep -E '^\| example \|' '$tmp/out' | grep -q '| pass ('"
check "... on both workloads" test "$(grep -cE '^\| example \|' "$tmp/out")" = 2
finish
