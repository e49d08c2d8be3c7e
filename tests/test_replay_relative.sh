#!/usr/bin/env bash
# test_replay_relative.sh REPLAY_ARGV SRC_TESTS: the replay runs every input named by a relative
# path, though the target (bench runs) changes the working folder after the first, and says so.
set -u
cd "$2/fuzz" || exit 1
n=$(find corpus/argv -maxdepth 1 -type f ! -name '.*' | wc -l)
out=$("$1" corpus/argv 2>&1 >/dev/null)
grep -q "replayed $n of $n inputs without a crash; 0 could not be read" <<<"$out" ||
  { echo "FAIL: want all $n replayed:"; tail -3 <<<"$out"; exit 1; }
echo "1 passed, 0 failed"
