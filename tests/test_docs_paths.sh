#!/usr/bin/env bash
# test_docs_paths.sh SRC: every file or folder docs/ARCHITECTURE.md names in backquotes exists
# (a doc that points at a moved file misleads the next reader). A name with a folder part
# (`harness/run/runner.c`, `impls/`) is taken from the repository root or a top folder
# (`run/` in the harness's table); install paths (lib/, include/) are not checked; a bare
# file name
# (`runner.c`) must exist somewhere in the tree.
set -u
cd "$1" || exit 1
pass=0
fail=0
names=$(grep -o '`[^`]*`' docs/ARCHITECTURE.md | tr -d '`' | tr ' ' '\n' |
  grep -E '^[A-Za-z0-9_./{},-]+$' | grep -E '(/|\.(c|h|cc|cu|cuh|sh|py|cmake|md|txt|json)$)' |
  grep -vE '^(https?:|/|\.|build|P/|DIR|FOLDER|FILE|NAME|RESULTS|results/latest|plots/[a-z<]|lib/|include/|bin/)' |
  sort -u)
for n in $names; do
  found=0
  case "$n" in
  *{*}*) # a brace list: a/{b,c}.h
    pre=${n%%\{*} rest=${n#*\{} list=${rest%%\}*} post=${rest#*\}}
    found=1
    IFS=, read -ra items <<<"$list"
    for it in "${items[@]}"; do [ -e "$pre$it$post" ] || found=0; done
    ;;
  */*) # from the root, or from a top folder the text is about (`run/` for harness/run/)
    for top in . harness tests impls workloads; do [ -e "$top/$n" ] && found=1; done ;;
  *) [ -n "$(find . -path ./build -prune -o -path './build-*' -prune -o -name "$n" -print -quit)" ] && found=1 ;;
  esac
  if [ $found = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: docs/ARCHITECTURE.md names '$n', which is not in the tree"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
