#!/usr/bin/env bash
# test_hostile.sh MLPBENCH: what a hostile user tried (docs/FAULTS.md, "hostile input" rows):
# strings that would run commands through gnuplot or a shell, names that climb out of the
# plots folder, destinations that are devices, FIFOs, symlinks or folders, planted temp
# names, a full disk, failing plots, compare across workloads and on huge arrays, long
# paths, options that used to mean something else, and an interrupted export.
set -u
bin=$(realpath "$1")
digits=$(realpath "$2") # workloads/data/mnist-digits-10k: a real IDX folder to copy
tmp=$(mktemp -d)
trap 'cd /; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
code() { # code WANT "what" COMMAND...: the command's exit status must be WANT
  local want=$1 what=$2
  shift 2
  "$@" >"$tmp/last.out" 2>&1
  local got=$?
  if [ "$got" = "$want" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $what: exit $got, want $want"
    head -5 "$tmp/last.out"
  fi
}
said() { grep -q -- "$1" "$tmp/last.out"; }
no_pwned() { ! find "$tmp" / -maxdepth 1 -name 'PWNED*' 2>/dev/null | grep -q .; }
have_gnuplot=0
command -v gnuplot >/dev/null && have_gnuplot=1
mkdir -p "$tmp/cwd"
cd "$tmp/cwd" || exit 1

# ---- 1. command execution from data ----
"$bin" bench --workload all --data synthetic:300 --epochs 2 --backend naive --quiet \
  --results "$tmp/base.json" >/dev/null 2>&1
check "a small results file to start from" test -s "$tmp/base.json"
if command -v python3 >/dev/null; then
  python3 - "$tmp/base.json" "$tmp/evil.json" "$tmp" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = sys.argv[3]
c = r["context"]
c["cpu"] = "AMD `touch %s/PWNED1` EPYC\nsystem \"touch %s/PWNED2\"\n' . system('touch %s/PWNED3') . '" % (t, t, t)
c["date"] = "@x `touch PWNED4` $(touch PWNED5); touch PWNED6"
for w in r["workloads"]:
    w["dataset"]["name"] = "dq`touch PWNED7`'\"\n!touch PWNED8\n"
    for row in w["results"]:
        row["backend"] = "n`touch PWNED9`'\\\n!touch x"
r["workloads"][0]["name"] = "../../z"
json.dump(r, open(sys.argv[2], "w"))
PY
  mkdir -p "$tmp/deep/a/b"
  cd "$tmp/deep/a/b" || exit 1
  code 0 "plot of a results file full of hostile strings" "$bin" plot "$tmp/evil.json" --plots p
  check "... ran no command (no PWNED file)" no_pwned
  check "... wrote nothing above the plots folder" test ! -e "$tmp/deep/z-epoch-time.png"
  check "... nothing outside it at all" test -z "$(find "$tmp/deep" -type f -not -path '*/p/*')"
  if [ $have_gnuplot = 1 ]; then
    check "... the climbing name became a safe file name in the folder" \
      test -n "$(find p -name '*_z-epoch-time.png')"
  fi
  cd "$tmp/cwd" || exit 1
else
  skipped "no python3 to craft the hostile results file"
fi
# a data folder whose name holds a command substitution
evil_dir="$tmp/dq\`touch $tmp/PWNED10\`'\$(touch $tmp/PWNED11)"
"$bin" export-png --data synthetic:300 --out "$evil_dir" >/dev/null 2>&1
code 0 "bench with a hostile --data folder and --plots" "$bin" bench --workload mnist \
  --data "$evil_dir" --epochs 2 --backend naive --quiet --results "$tmp/e2.json" \
  --plots "$tmp/p2\`touch $tmp/PWNED12\`"
check "... ran no command" no_pwned

# ---- 2. destinations that must be refused before the run ----
echo "precious" >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/link.json"
mkfifo "$tmp/fifo.json"
mkdir "$tmp/folder.json"
for dest in "$tmp/link.json" "$tmp/fifo.json" "$tmp/folder.json" ""; do
  code 2 "--results '$dest' refused" "$bin" bench --workload toy --epochs 50 --quiet --results "$dest"
  check "... before the run, saying why" grep -qE "refusing to replace|empty path" "$tmp/last.out"
  code 2 "--markdown '$dest' refused" "$bin" bench --workload toy --epochs 50 --quiet \
    --results "$tmp/ok.json" --markdown "$dest"
done
check "the symlink's target is untouched" grep -qx precious "$tmp/victim"
check "the symlink is still a symlink" test -L "$tmp/link.json"
check "the FIFO is still a FIFO" test -p "$tmp/fifo.json"
code 2 "--plots naming a file refused" "$bin" bench --workload toy --epochs 50 --quiet \
  --results "$tmp/ok.json" --plots "$tmp/victim"
if [ "$(id -u)" = 0 ] && mknod "$tmp/null.json" c 1 3 2>/dev/null; then
  code 2 "--results naming a character device refused" "$bin" bench --workload toy --epochs 50 \
    --quiet --results "$tmp/null.json"
  check "... and it is still a device" test -c "$tmp/null.json"
else
  skipped "device destination: needs root to mknod a device in a temp folder"
fi
# the temp names used to be predictable: a symlink planted there must not be followed
mkdir "$tmp/plant"
for n in r.md.tmp r.json.tmp.1 .r.json.tmp; do ln -s "$tmp/victim" "$tmp/plant/$n"; done
code 0 "bench beside planted temp-name symlinks" "$bin" bench --workload toy --epochs 50 --quiet \
  --results "$tmp/plant/r.json" --markdown "$tmp/plant/r.md"
check "... the planted links' target is untouched" grep -qx precious "$tmp/victim"
check "... results and Markdown are regular files" test -f "$tmp/plant/r.json" -a ! -L "$tmp/plant/r.md"
check "... no temp file is left" test -z "$(find "$tmp/plant" -name '.r.*.??????')"

# ---- 3. outputs that lie or get lost ----
if [ $have_gnuplot = 1 ]; then
  "$bin" plot "$tmp/base.json" --plots "$tmp/plots" >/dev/null 2>&1
  cp "$tmp/plots/mnist-epoch-time.png" "$tmp/old.png"
  mkdir "$tmp/fakebin"
  printf '#!/bin/sh\nexit 1\n' >"$tmp/fakebin/gnuplot"
  # a gnuplot that exits 0 but leaves a truncated PNG behind
  cat >"$tmp/fakebin/gnuplot-trunc" <<'SH'
#!/bin/sh
out=$(sed -n "s/^set output '\(.*\)'$/\1/p" "$1")
printf '\211PNG\r\n\032\nhalf' >"$out"
exit 0
SH
  chmod +x "$tmp/fakebin/gnuplot" "$tmp/fakebin/gnuplot-trunc"
  code 3 "plot when gnuplot fails exits 3" env PATH="$tmp/fakebin:$PATH" "$bin" plot \
    "$tmp/base.json" --plots "$tmp/plots"
  check "... says so" said "gnuplot failed"
  check "... and keeps the old plot" cmp -s "$tmp/old.png" "$tmp/plots/mnist-epoch-time.png"
  mv "$tmp/fakebin/gnuplot-trunc" "$tmp/fakebin/gnuplot"
  code 3 "plot when gnuplot leaves a truncated PNG exits 3" env PATH="$tmp/fakebin:$PATH" \
    "$bin" plot "$tmp/base.json" --plots "$tmp/plots"
  check "... and keeps the old plot" cmp -s "$tmp/old.png" "$tmp/plots/mnist-epoch-time.png"
  code 3 "bench --plots when gnuplot fails exits 3, results still written" \
    env PATH="$tmp/fakebin:$PATH" "$bin" bench --workload toy --epochs 50 --quiet \
    --results "$tmp/gp.json" --plots "$tmp/plots"
  check "... results file written" test -s "$tmp/gp.json"
else
  skipped "plot failures: gnuplot not installed"
fi
fill() { cat /dev/zero >"$tmp/full/filler" 2>/dev/null; }
if [ "$(id -u)" = 0 ] && mkdir "$tmp/full" && mount -t tmpfs -o size=256k tmpfs "$tmp/full" 2>/dev/null; then
  echo '{"old": true}' >"$tmp/full/r.json"
  fill
  code 3 "results on a full disk exit 3" "$bin" bench --workload mnist --data synthetic:300 \
    --epochs 3 --backend naive --quiet --results "$tmp/full/r.json" --markdown "$tmp/full/r.md"
  check "... the old results file is intact" grep -q '"old": true' "$tmp/full/r.json"
  check "... no temp file left" test -z "$(find "$tmp/full" -name '.r.*')"
  rm -f "$tmp/full/"*
  "$bin" export-png --data synthetic:5 --out "$tmp/full/png" >/dev/null 2>&1
  cp "$tmp/full/png/train.csv" "$tmp/csv.before"
  fill
  code 2 "re-export onto a full disk fails" "$bin" export-png --data synthetic:300 --out "$tmp/full/png"
  check "... and leaves the previous export whole" cmp -s "$tmp/csv.before" "$tmp/full/png/train.csv"
  check "... with all its images" test "$(ls "$tmp/full/png/images" | wc -l)" = 5
  check "... and no temp folder" test -z "$(find "$tmp/full" -maxdepth 1 -name '.png.*')"
  # the digit montage on a full disk names the errno, not libpng's "Write Error"
  rm -rf "$tmp/full/"*
  "$bin" bench --workload mnist --data synthetic:300 --epochs 3 --backend naive --quiet \
    --results "$tmp/montage.json" >/dev/null 2>&1
  mkdir -p "$tmp/full/plots"
  fill
  "$bin" plot "$tmp/montage.json" --plots "$tmp/full/plots" >"$tmp/last.out" 2>&1
  check "a montage on a full disk says No space left on device" \
    grep -q "montage.png: cannot write: No space left on device" "$tmp/last.out"
  check "... never libpng's bare Write Error" bash -c "! grep -q 'Write Error' '$tmp/last.out'"
  umount "$tmp/full"
else
  skipped "full disk: needs root to mount a small tmpfs"
fi
# SIGINT during export-png: nothing partial is left
"$bin" export-png --data synthetic:20000 --out "$tmp/intexp" >/dev/null 2>&1 &
pid=$!
sleep 0.7
kill -INT $pid 2>/dev/null
wait $pid
st=$?
if [ $st = 0 ]; then
  skipped "export finished before the signal (fast machine)"
else
  check "interrupted export exits 130" test $st = 130
  check "... leaves no folder" test ! -e "$tmp/intexp"
  check "... and no temp folder" test -z "$(find "$tmp" -maxdepth 1 -name '.intexp.*')"
fi
code 2 "export into a folder holding other files is refused" "$bin" export-png --data synthetic:5 \
  --out "$tmp/plant"

# compare across workloads and sizes
"$bin" bench --workload mnist --data synthetic:300 --epochs 5 --backend naive --quiet \
  --results "$tmp/b128.json" >/dev/null 2>&1
"$bin" bench --workload mnist --data synthetic:300 --epochs 5 --batch 64 --backend naive --quiet \
  --results "$tmp/b64.json" >/dev/null 2>&1
"$bin" bench --workload mnist --data synthetic:400 --epochs 3 --backend naive --quiet \
  --results "$tmp/d400.json" >/dev/null 2>&1
unmark "$tmp/b128.json" "$tmp/b64.json" "$tmp/d400.json"
code 2 "compare of different batches is unusable input" "$bin" compare "$tmp/b128.json" "$tmp/b64.json"
check "... naming the difference" said "batch 128"
code 2 "compare of different data is unusable input" "$bin" compare "$tmp/b128.json" "$tmp/d400.json"
check "... naming the difference" said "data "
code 2 "a side mixing two workloads is unusable" "$bin" compare "$tmp/b128.json,$tmp/b64.json" "$tmp/b128.json"
"$bin" compare --force "$tmp/b128.json" "$tmp/b64.json" >"$tmp/last.out" 2>&1
check "--force compares anyway (exit 0 or 1)" test $? -le 1
# huge arrays: 7 samples against 40,000 and against 1,000,000, each in under 60 s: a pass
# quadratic in 1,000,000 would take hours; 5 s failed under ASan on a loaded 2-core machine
mkarr() { # mkarr N OUT: base.json's mnist row with N samples
  awk -v n="$1" '
    /"epoch_seconds"|"epoch_cpu_seconds"/ { print; printf "   0.01"; for (i = 1; i < n; i++) printf ",\n   %.6f", 0.01 + (i % 97) * 1e-5; print ""; skip = 1; next }
    skip && /\]/ { skip = 0 }
    skip { next }
    { print }' "$tmp/b128.json" >"$2"
}
mkarr 7 "$tmp/a7.json"
mkarr 40000 "$tmp/a40k.json"
mkarr 1000000 "$tmp/a1m.json"
for big in a40k a1m; do
  start=$(date +%s.%N)
  "$bin" compare "$tmp/a7.json" "$tmp/$big.json" >"$tmp/last.out" 2>&1
  st=$?
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  check "compare 7 against $big answers (exit $st)" test $st -le 1
  check "... in under 60 s (took $secs s)" awk -v s="$secs" 'BEGIN { exit !(s < 60) }'
done

# long paths: no truncation, a clear refusal past PATH_MAX
long="$tmp"
while [ ${#long} -lt 900 ]; do long="$long/dddddddddddddddddddddddddddddddddddddddddddddddddd"; done
mkdir -p "$long"
"$bin" export-png --data synthetic:40 --out "$long/png" >/dev/null 2>&1
mkdir -p "$long/png2/images"
cp "$long/png/train.csv" "$long/png2/"
code 0 "a CSV path of ${#long} characters loads its own images" "$bin" train --data "$long/png" \
  --batch 8 --epochs 1 --backend naive --quiet
code 2 "... and never an ancestor's images/ (its own folder is empty)" "$bin" train \
  --data "$long/png2/train.csv" --batch 8 --epochs 1 --backend naive --quiet
check "... naming the missing image" said "png2/images/00000.png: cannot open image"
mkdir -p "$long/idx"
cp "$digits"/train-*-ubyte.gz "$long/idx/"
code 0 "an IDX folder path of ${#long} characters is found" "$bin" train --data "$long/idx" \
  --limit 500 --epochs 1 --backend naive --quiet
toolong="$tmp/$(printf 'x%.0s' $(seq 1 300))"
toolong="$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong$toolong"
code 2 "a --results path past PATH_MAX is refused" "$bin" bench --workload toy --epochs 50 --quiet \
  --results "$toolong/r.json"
check "... saying so" said "path longer than"
code 2 "a --data path past PATH_MAX is refused" "$bin" train --data "$toolong" --quiet
check "... saying so" said "path longer than"

# ---- 4. options that quietly meant something else ----
for lr in 1e-50 0 -1 nan inf 1e39 0x; do
  code 2 "--lr $lr is a usage error" "$bin" train --workload toy --epochs 5 --lr "$lr" --quiet
done
for b in "" "," "naive," "naive,naive" "naive,naive,naive,naive,naive,naive,naive,naive,naive"; do
  code 2 "--backend '$b' is a usage error" "$bin" bench --workload toy --epochs 50 --quiet \
    --results "$tmp/ok.json" --backend "$b"
done
code 2 "--peers tensorflow is a usage error" "$bin" bench --workload toy --epochs 50 --quiet \
  --results "$tmp/ok.json" --peers tensorflow
code 2 "--peers jax,jax (one peer twice) is a usage error" "$bin" bench --workload toy --epochs 50 \
  --quiet --results "$tmp/ok.json" --peers jax,jax
code 2 "--blas-kernel NOPE is a usage error" "$bin" bench --workload toy --epochs 50 --quiet \
  --results "$tmp/ok.json" --blas-kernel NOPE
code 0 "--threads 1 bench" "$bin" bench --workload toy --epochs 50 --quiet --backend blas \
  --threads 1 --results "$tmp/t1.json"
if grep -q '"blas_kernel": "unknown"' "$tmp/t1.json"; then
  skipped "--threads record: not OpenBLAS"
else
  check "... records the thread count it ran with" grep -q '"blas_threads": 1,' "$tmp/t1.json"
fi
check "the flags field records compiler flags, not a CMake switch" \
  bash -c "! grep -q '=ON\|=OFF' '$tmp/t1.json'"

# ---- issue 18 sections 3, 4 and 7 (self-contained: its own files under $tmp/i18) ----
mkdir -p "$tmp/i18/hist"
"$bin" bench --workload toy --epochs 20 --repeat 2 --backend naive --quiet \
  --results "$tmp/i18/hist/a.json" >/dev/null 2>&1
check "issue 18: a small results file to start from" test -s "$tmp/i18/hist/a.json"
mkfifo "$tmp/i18/hist/b.json"
code 0 "history over a folder holding a FIFO does not block" timeout 20 "$bin" history "$tmp/i18/hist"
check "... and names the FIFO it skipped" said "b.json: not a regular file"
code 2 "report of a FIFO is refused at once" timeout 20 "$bin" report "$tmp/i18/hist/b.json" \
  --out "$tmp/i18/r.html"
code 2 "compare of a FIFO is refused at once" timeout 20 "$bin" compare "$tmp/i18/hist/b.json" \
  "$tmp/i18/hist/a.json"
code 2 "plot of a FIFO is refused at once" timeout 20 "$bin" plot "$tmp/i18/hist/b.json" \
  --plots "$tmp/i18/p"
rm -f "$tmp/i18/hist/b.json"
truncate -s 65M "$tmp/i18/big.json"
code 2 "a results file over the cap is refused" "$bin" plot "$tmp/i18/big.json" --plots "$tmp/i18/p"
check "... naming the cap" said "67108864-byte limit for a results file"
rm -f "$tmp/i18/big.json"
# two outputs naming one file, in any spelling
mkdir -p "$tmp/i18/out"
code 2 "bench --results X --markdown X is a usage error" "$bin" bench --workload toy --epochs 20 \
  --backend naive --quiet --results "$tmp/i18/out/x" --markdown "$tmp/i18/out/./x"
check "... saying why" said "one would replace the other"
check "... before writing anything" test ! -e "$tmp/i18/out/x"
cp "$tmp/i18/hist/a.json" "$tmp/i18/keep.json"
code 2 "report X --out X is a usage error" "$bin" report "$tmp/i18/hist/a.json" \
  --out "$tmp/i18/hist/../hist/a.json"
check "... and the results file is intact" cmp -s "$tmp/i18/keep.json" "$tmp/i18/hist/a.json"
code 2 "report --images MISSING is a usage error" "$bin" report "$tmp/i18/hist/a.json" \
  --images "$tmp/i18/missing" --out "$tmp/i18/r.html"
check "... with the true reason" said "missing: No such file or directory"
# text from a results file reaches the terminal without its control characters
if command -v python3 >/dev/null; then
  python3 - "$tmp/i18/hist/a.json" "$tmp/i18/evil.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
evil = "x\u001b]0;PWNED\u0007\u001b[2J\n| fake | row |"
for k in ("host", "cpu", "date", "git_commit", "caches", "gpu", "blas_library", "command"):
    r["context"][k] = evil
for w in r["workloads"]:
    w["name"] = evil
    w["dataset"]["name"] = evil
    for row in w["results"]:
        row["backend"] = evil
        row["path"] = evil
json.dump(r, open(sys.argv[2], "w"))
PY
  clean() { ! grep -q "$(printf '[\033\007]')" "$tmp/last.out" && ! grep -q '^| fake' "$tmp/last.out"; }
  "$bin" plot "$tmp/i18/evil.json" --plots "$tmp/i18/ep" >"$tmp/last.out" 2>&1
  check "plot of hostile strings prints no control character" clean
  "$bin" report "$tmp/i18/evil.json" --out "$tmp/i18/evil.html" >"$tmp/last.out" 2>&1
  check "report of hostile strings prints no control character" clean
  "$bin" report "$tmp/i18/evil.json" --out "$tmp/i18/$(printf 'e\033[2Jvil').html" \
    >"$tmp/last.out" 2>&1
  check "report naming a hostile path prints no control character" clean
else
  skipped "issue 18 hostile text: needs python3"
fi
code 2 "an unknown option's name is echoed without its controls" "$bin" bench "$(printf -- '--x\033]0;PWNED\007')"
check "... no ESC or BEL in the message" bash -c "! grep -q \"\$(printf '[\\033\\007]')\" '$tmp/last.out'"
# a full disk says so
if [ "$(id -u)" = 0 ] && mkdir "$tmp/i18/full" && mount -t tmpfs -o size=64k tmpfs "$tmp/i18/full" 2>/dev/null; then
  cat /dev/zero >"$tmp/i18/full/filler" 2>/dev/null
  code 3 "results on a full disk exit 3" "$bin" bench --workload toy --epochs 20 --backend naive \
    --quiet --results "$tmp/i18/full/r.json"
  check "... saying No space left on device" said "No space left on device"
  umount "$tmp/i18/full"
else
  skipped "issue 18 full disk: needs root to mount a small tmpfs"
fi

finish
