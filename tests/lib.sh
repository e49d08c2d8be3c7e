# lib.sh: what the shell test suites share; sourced after `tmp` is set.
#   check "what" COMMAND...   passes when the command succeeds
#   skipped "why"             counts a case that could not run here, and says why
#   expect CODE "what" PATTERN -- COMMAND...   passes when the command exits CODE and its
#                             stdout+stderr match the extended regex PATTERN
#   finish                    prints "N passed, N failed[, N skipped]" and sets the exit status
pass=0
fail=0
skip=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
expect() {
  local code=$1 what=$2 pat=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = "$code" ] && grep -qE -- "$pat" <<<"$out"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $what: exit $rc (want $code), output lacks /$pat/ or differs:"
    head -c 1200 <<<"$out"
    echo
  fi
}
skipped() { skip=$((skip + 1)); echo "skipped: $*"; }
finish() {
  if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
  [ "$fail" = 0 ]
}
# unmark FILE...: the rows of real runs made as test inputs, judged quiet in place. The suite
# runs tests side by side (ctest -j2), so the run behind a compare test may be marked disturbed
# by its neighbour; a test of compare's logic must not depend on how busy the machine was.
unmark() { # the file's own layout kept: later steps of a test may edit it by line
  sed -i -E 's/"disturbed": true/"disturbed": false/; s/"disturbed_reason": "[^"]*"/"disturbed_reason": ""/' "$@"
}
