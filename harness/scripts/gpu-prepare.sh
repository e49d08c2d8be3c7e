#!/usr/bin/env bash
# gpu-prepare.sh: run HERE (a Debian machine with network) before a device call. The lent
# GPU machine has no apt and no network, so the build's Debian libraries and the
# Fashion-MNIST files travel with the working tree in two ignored folders, which the device
# call names in `carry`: .gpu-deps (debs, ~14 MB) and .gpu-data (Fashion-MNIST, ~31 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu-deps .gpu-data/fashion
(cd .gpu-deps && apt-get download zlib1g-dev libpng-dev libpng16-16 libopenblas-dev \
  libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libjansson-dev libjansson4 2>/dev/null)
src=${MLPBENCH_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
if [ -f "$src/train-images-idx3-ubyte.gz" ]; then
  cp "$src"/*-ubyte.gz .gpu-data/fashion/
else
  echo "gpu-prepare: no Fashion-MNIST at $src (apt-get install dataset-fashion-mnist);" \
    "the device check will use synthetic:60000" >&2
fi
du -sh .gpu-deps .gpu-data
