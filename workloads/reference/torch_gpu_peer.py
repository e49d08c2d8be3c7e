#!/usr/bin/env python3
"""torch_gpu_peer.py: the classifier epoch in PyTorch eager on the same GPU, as mlpbench runs it:
784-500-10 ReLU, cross-entropy, Adam lr 1e-3, tutorial sampling (int(N/128) batches of 128
drawn with replacement from the first 70%), data resident on the device, zero_grad each step.
Per-epoch time with CUDA events; the first epoch of each run is dropped (warm-up)."""
import argparse
import gzip
import os
import statistics

import numpy as np
import torch


def load_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def data(spec):
    if spec == "fashion":
        d = os.environ.get("MLPBENCH_FASHION_DIR", "/usr/share/datasets/fashion-mnist")
        x = load_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
        y = load_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
        return x, y, "fashion-mnist"
    n = int(spec.split(":")[1]) if spec.startswith("synthetic:") else 60000
    rng = np.random.default_rng(0)  # timing only: same shapes, not mlpbench's images
    return rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n), "random"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="fashion")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    x, y, name = data(a.data)
    n = len(x)
    ntr = n * 7 // 10
    X = torch.tensor(x[:ntr], dtype=torch.float32, device=dev) / 255.0
    Y = torch.tensor(y[:ntr], dtype=torch.int64, device=dev)
    XV = torch.tensor(x[ntr:], dtype=torch.float32, device=dev) / 255.0
    YV = torch.tensor(y[ntr:], dtype=torch.int64, device=dev)
    steps, times, acc = n // 128, [], 0.0
    for r in range(a.repeat):
        torch.manual_seed(128 + r)
        model = torch.nn.Sequential(
            torch.nn.Linear(784, 500), torch.nn.ReLU(), torch.nn.Linear(500, 10)
        ).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        for e in range(a.epochs):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(steps):
                idx = torch.randint(0, ntr, (128,), device=dev)
                opt.zero_grad()
                loss = loss_fn(model(X[idx]), Y[idx])
                loss.backward()
                opt.step()
            end.record()
            torch.cuda.synchronize()
            if e > 0:
                times.append(start.elapsed_time(end) / 1e3)
        with torch.no_grad():
            acc = (model(XV).argmax(1) == YV).float().mean().item()
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    print(f"PyTorch {torch.__version__} eager on {torch.cuda.get_device_name()}, data {name}, "
          f"{steps} steps of 128 per epoch")
    print("| impl | median/epoch | IQR | min | max | n | val acc |")
    print(f"| pytorch eager | {statistics.median(times) * 1e3:.2f} ms | "
          f"{(q[2] - q[0]) * 1e3:.2f} ms | {min(times) * 1e3:.2f} ms | {max(times) * 1e3:.2f} ms | "
          f"{len(times)} | {acc:.4f} |")


if __name__ == "__main__":
    main()
