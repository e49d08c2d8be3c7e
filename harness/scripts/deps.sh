#!/usr/bin/env bash
# deps.sh [extra-package...]: installs mlpbench's Debian build dependencies when run as root,
# otherwise prints the one apt-get line needed. Exit 0 when everything is present.
set -u
pkgs=(cmake make gcc g++ pkg-config zlib1g-dev libpng-dev libopenblas-dev libopenblas-openmp-dev libjansson-dev gnuplot-nox libbenchmark-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "mlpbench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
  echo "mlpbench: apt-get failed; run: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "mlpbench: missing Debian packages; run:" >&2
echo "  sudo apt-get install -y ${missing[*]}" >&2
exit 1
