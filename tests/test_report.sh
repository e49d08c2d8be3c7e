#!/usr/bin/env bash
# test_report.sh MLPBENCH: `mlpbench report` in a real browser. Headless Chromium loads the
# page from disk: every image must decode (naturalWidth > 0), the tables must be there, and
# the page may fetch nothing over the network (the page's resource timing lists every load
# it made; name resolution is off as well). The page itself carries no script; the check
# runs in a copy with one appended. The browser checks skip (77) without Chromium.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
"$bin" bench --workload all --data synthetic:600 --epochs 3 --backend naive,blas --quiet \
  --results "$tmp/hist/r1.json" --plots "$tmp/plots" >/dev/null 2>&1
"$bin" bench --workload all --data synthetic:600 --epochs 3 --backend naive,blas --quiet \
  --results "$tmp/hist/r2.json" >/dev/null 2>&1
"$bin" report "$tmp/hist/r2.json" --images "$tmp/plots" --history "$tmp/hist" \
  --out "$tmp/report.html" >"$tmp/out" 2>&1
check "report exits 0" test $? = 0
check "the page carries no script" bash -c "! grep -qi '<script' '$tmp/report.html'"
check "no external reference (http, //, url())" \
  bash -c "! grep -qiE '(src|href)=\"(https?:)?//|url\\(' '$tmp/report.html'"
check "images are embedded" grep -q 'src="data:image/png;base64,' "$tmp/report.html"
# the blas row against the machine: its share of the peak the run measured, as in the table
check "the machine's peak is on the page" grep -q '<tr><th>machine peak</th><td>[0-9.]* GFLOP/s FP32 (blas: cblas_sgemm' "$tmp/report.html"
check "the blas row shows its share of it" \
  bash -c "grep -o '<tr><td>blas</td>.*' '$tmp/report.html' | head -1 | grep -qE '<td>[0-9]+%</td><td>[0-9.]+</td><td class=ok>pass'"
# hostile text from a results file is shown, not parsed
sed 's/"cpu": "[^"]*"/"cpu": "<img src=x onerror=alert(1)><script>bad()<\/script>"/' \
  "$tmp/hist/r2.json" >"$tmp/evil.json"
"$bin" report "$tmp/evil.json" --images "$tmp/plots" --out "$tmp/evil.html" >/dev/null 2>&1
check "markup in a results file is escaped" grep -q '&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;' "$tmp/evil.html"
check "... and never reaches the page as markup" bash -c "! grep -q '<script>bad' '$tmp/evil.html'"
sed 's/"machine_peak_by": "[^"]*"/"machine_peak_by": "<b>peak<\/b>"/' "$tmp/hist/r2.json" >"$tmp/evil2.json"
"$bin" report "$tmp/evil2.json" --out "$tmp/evil2.html" >/dev/null 2>&1
check "markup in the peak's description is escaped" grep -q '(&lt;b&gt;peak&lt;/b&gt;;' "$tmp/evil2.html"

chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
  echo "$pass passed, $fail failed"
  echo "skipped: the browser test needs Chromium (apt-get install chromium)"
  [ $fail = 0 ] && exit 77 || exit 1
fi
{
  sed 's#</body></html>##' "$tmp/report.html"
  cat <<'JS'
<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  const net = performance.getEntriesByType('resource')
    .filter(e => !/^(data|file|about):/.test(e.name)).length;
  document.title = `RESULT images ${imgs.length} decoded ${ok} tables ${document.querySelectorAll('table').length} fetched ${net}`;
});
</script></body></html>
JS
} >"$tmp/check.html"
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions
  --disable-background-networking --disable-component-update --disable-sync
  --host-resolver-rules="MAP * ~NOTFOUND" --virtual-time-budget=5000)
timeout 120 "$chrome" "${flags[@]}" --dump-dom \
  "file://$tmp/check.html" >"$tmp/dom.html" 2>"$tmp/chrome.log"
title=$(grep -o 'RESULT images [0-9]* decoded [0-9]* tables [0-9]* fetched [0-9]*' "$tmp/dom.html")
echo "chromium: $title"
read -r _ _ n _ ok _ tables _ fetched <<<"$title"
check "Chromium loaded the page" test -n "$title"
check "there are images (${n:-0})" test "${n:-0}" -ge 3
check "every image decodes ($ok of $n)" test "${ok:-x}" = "${n:-y}"
check "the tables are there (${tables:-0})" test "${tables:-0}" -ge 4
check "nothing was fetched from the network (${fetched:-?} loads)" test "${fetched:-x}" = 0
timeout 120 "$chrome" "${flags[@]}" --window-size=1280,2000 --screenshot="$tmp/shot.png" \
  "file://$tmp/report.html" >/dev/null 2>&1
check "a screenshot was taken" test -s "$tmp/shot.png"
[ -n "${MLPBENCH_KEEP_SCREENSHOT:-}" ] && cp "$tmp/shot.png" "$MLPBENCH_KEEP_SCREENSHOT"
finish
