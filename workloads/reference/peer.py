#!/usr/bin/env python3
"""peer.py: the tutorial's own tools as mlpbench peers. Runs the exact run that mlpbench
exported to RUN_DIR (spec, initial weights, data, every epoch's batch indices) with numpy
or PyTorch (CPU, float32) and writes RUN_DIR/peer.json (schema "mlpbench-peer-1": details,
the loss on the gradient-check batch, per-epoch seconds, curves, accuracies), plus
RUN_DIR/grads.f32: the peer's gradients on the gradient-check batch. What the run is comes
from run.json's properties (full_batch, targets), never from the workload's name.

    peer.py --peer numpy|torch --run RUN_DIR [--grads-only]

Exit codes: 0 ok, 77 the peer's library is not installed, 2 bad run folder.
"""
import argparse
import json
import math
import os
import sys
import time


def load(run_dir, name, dtype, shape):
    import numpy as np

    a = np.fromfile(os.path.join(run_dir, name), dtype=dtype)
    return a.reshape(shape)


def sigmoid_np(np, z):
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


class NumpyMLP:
    """The float32 forward/backward/optimizer step of impls/common/cpu_mlp.c, in numpy."""

    def __init__(self, run, flat):
        import numpy as np

        self.np, self.run = np, run
        i, h, o = run["n_in"], run["n_hidden"], run["n_out"]
        sizes = [i * h, h, h * o, o]
        shapes = [(i, h), (h,), (h, o), (o,)]
        self.p, at = [], 0
        for n, s in zip(sizes, shapes):
            self.p.append(flat[at : at + n].reshape(s).astype(np.float32).copy())
            at += n
        self.g = [np.zeros_like(a) for a in self.p]
        self.m = [np.zeros_like(a) for a in self.p]
        self.v = [np.zeros_like(a) for a in self.p]
        self.t = 0

    def forward(self, x):
        np, W1, b1, W2, b2 = self.np, *self.p
        h = x @ W1 + b1
        h = np.maximum(h, 0) if self.run["activation"] == "relu" else sigmoid_np(np, h)
        return h, h @ W2 + b2

    def zero_grads(self):
        for g in self.g:
            g[...] = 0

    def forward_backward(self, x, y):
        np = self.np
        h, z = self.forward(x)
        B = x.shape[0]
        if self.run["loss"] == "softmax_cross_entropy":
            mx = z.max(axis=1, keepdims=True)
            e = np.exp(z - mx)
            s = e.sum(axis=1, keepdims=True)
            rows = np.arange(B)
            loss = float(np.mean(np.log(s[:, 0]) + mx[:, 0] - z[rows, y]))
            dz = e / s
            dz[rows, y] -= 1.0
            dz /= np.float32(B)
        else:
            out = sigmoid_np(np, z)
            e = y - out
            loss = float(0.5 * np.sum(e.astype(np.float64) ** 2))
            dz = -e * out * (1 - out)
        W2 = self.p[2]
        self.g[2] += h.T @ dz
        self.g[3] += dz.sum(axis=0)
        dh = dz @ W2.T
        dh = dh * (h > 0) if self.run["activation"] == "relu" else dh * h * (1 - h)
        self.g[0] += x.T @ dh
        self.g[1] += dh.sum(axis=0)
        return loss

    def step(self):
        np, r = self.np, self.run
        if r["optimizer"] == "sgd":
            for p, g in zip(self.p, self.g):
                p -= np.float32(r["lr"]) * g
            return
        self.t += 1
        b1, b2, eps = np.float32(r["beta1"]), np.float32(r["beta2"]), np.float32(r["eps"])
        step_size = np.float32(r["lr"] / (1 - r["beta1"] ** self.t))
        bc2_sqrt = np.float32(math.sqrt(1 - r["beta2"] ** self.t))
        for p, g, m, v in zip(self.p, self.g, self.m, self.v):
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            p -= step_size * m / (np.sqrt(v) / bc2_sqrt + eps)

    def outputs(self, x):
        np = self.np
        _, z = self.forward(x)
        if self.run["loss"] != "softmax_cross_entropy":
            return sigmoid_np(np, z)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def grads_flat(self):
        return self.np.concatenate([g.reshape(-1) for g in self.g])


class TorchMLP:
    """PyTorch eager: nn.Linear layers, autograd, torch.optim, as the tutorial writes it."""

    def __init__(self, run, flat):
        import torch

        self.torch, self.run = torch, run
        i, h, o = run["n_in"], run["n_hidden"], run["n_out"]
        W1 = flat[: i * h].reshape(i, h)
        b1 = flat[i * h : i * h + h]
        W2 = flat[i * h + h : i * h + h + h * o].reshape(h, o)
        b2 = flat[i * h + h + h * o :]
        self.l1, self.l2 = torch.nn.Linear(i, h), torch.nn.Linear(h, o)
        with torch.no_grad():  # nn.Linear keeps weight as (out, in): the transpose of ours
            self.l1.weight.copy_(torch.from_numpy(W1.T.copy()))
            self.l1.bias.copy_(torch.from_numpy(b1.copy()))
            self.l2.weight.copy_(torch.from_numpy(W2.T.copy()))
            self.l2.bias.copy_(torch.from_numpy(b2.copy()))
        act = torch.nn.ReLU() if run["activation"] == "relu" else torch.nn.Sigmoid()
        self.model = torch.nn.Sequential(self.l1, act, self.l2)
        params = self.model.parameters()
        if run["optimizer"] == "adam":
            self.opt = torch.optim.Adam(
                params, lr=run["lr"], betas=(run["beta1"], run["beta2"]), eps=run["eps"]
            )
        else:
            self.opt = torch.optim.SGD(params, lr=run["lr"])
        self.ce = torch.nn.CrossEntropyLoss()

    def zero_grads(self):
        self.opt.zero_grad(set_to_none=False)

    def forward_backward(self, x, y):
        torch = self.torch
        z = self.model(torch.from_numpy(x))
        if self.run["loss"] == "softmax_cross_entropy":
            loss = self.ce(z, torch.from_numpy(y.astype("int64")))
        else:
            loss = 0.5 * ((torch.from_numpy(y) - torch.sigmoid(z)) ** 2).sum()
        loss.backward()
        return float(loss.item())

    def step(self):
        self.opt.step()

    def outputs(self, x):
        torch = self.torch
        with torch.no_grad():
            z = self.model(torch.from_numpy(x))
            out = torch.softmax(z, 1) if self.run["loss"] == "softmax_cross_entropy" else torch.sigmoid(z)
        return out.numpy()

    def grads_flat(self):
        import numpy as np

        g = [self.l1.weight.grad.T, self.l1.bias.grad, self.l2.weight.grad.T, self.l2.bias.grad]
        return np.concatenate([t.detach().numpy().reshape(-1) for t in g]).astype(np.float32)


def accuracy(net, x, y):
    if len(y) == 0:
        return None
    out = net.outputs(x)
    return float((out.argmax(axis=1) == y).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", choices=["numpy", "torch"], required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--grads-only", action="store_true")
    a = ap.parse_args()
    try:
        import numpy as np

        if a.peer == "torch":
            import torch

            torch.set_num_threads(int(os.environ.get("MLPBENCH_PEER_THREADS", "0")) or torch.get_num_threads())
    except ImportError as e:
        print(f"peer {a.peer} unavailable: {e}", file=sys.stderr)
        sys.exit(77)
    try:
        with open(os.path.join(a.run, "run.json")) as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        print(f"peer: {a.run}/run.json: {e}", file=sys.stderr)
        sys.exit(2)
    I, O, n_gc = run["n_in"], run["n_out"], run["n_gc"]
    targets = run["targets"]  # regression targets instead of class labels
    f32, i32 = np.float32, np.int32
    flat = load(a.run, "params.f32", f32, (-1,))
    Net = NumpyMLP if a.peer == "numpy" else TorchMLP
    if a.peer == "torch":
        details = f"PyTorch {torch.__version__} eager, CPU, {torch.get_num_threads()} threads"
    else:
        details = f"numpy {np.__version__} float32"

    net = Net(run, flat)
    gx = load(a.run, "gc_x.f32", f32, (n_gc, I))
    gy = load(a.run, "gc_t.f32", f32, (n_gc, O)) if targets else load(a.run, "gc_y.i32", i32, (n_gc,))
    net.zero_grads()
    gc_loss = net.forward_backward(gx, gy)
    net.grads_flat().astype(f32).tofile(os.path.join(a.run, "grads.f32"))
    result = {"schema": "mlpbench-peer-1", "peer": a.peer, "details": details,
              "python": sys.version.split()[0], "gradcheck_loss": gc_loss,
              "epoch_seconds": [], "epoch_cpu_seconds": [],
              "curves": {"loss": [], "val_acc": []}, "val_acc": None, "test_acc": None}
    if not a.grads_only:
        result.update(train(run, Net, flat, a.run))
    with open(os.path.join(a.run, "peer.json"), "w") as f:
        json.dump(result, f)


def train(run, Net, flat, d):
    import numpy as np

    f32, i32 = np.float32, np.int32
    I, O = run["n_in"], run["n_out"]
    ntr, nval, ntest = run["n_train"], run["n_val"], run["n_test"]
    targets, full = run["targets"], run["full_batch"]
    if targets:
        x, t = load(d, "x_train.f32", f32, (ntr, I)), load(d, "t_train.f32", f32, (ntr, O))
    else:
        x, y = load(d, "x_train.f32", f32, (ntr, I)), load(d, "y_train.i32", i32, (ntr,))
        xv, yv = load(d, "x_val.f32", f32, (nval, I)), load(d, "y_val.i32", i32, (nval,))
        if ntest:
            xt, yt = load(d, "x_test.f32", f32, (ntest, I)), load(d, "y_test.i32", i32, (ntest,))
        order = load(d, "order.i32", i32, (run["epochs"], run["n_idx"]))
    B, epochs, warm, block = run["batch"], run["epochs"], run["warmup"], run["block"]
    secs, cpus, curve_loss, curve_acc = [], [], [], []
    val_acc = test_acc = None
    for r in range(run["repeat"]):
        net, last = Net(run, flat), r == run["repeat"] - 1
        if full:  # one step on the whole input per epoch, timed in blocks
            for b in range((epochs + block - 1) // block):
                k = min(block, epochs - b * block)
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(k):
                    net.zero_grads()
                    loss = net.forward_backward(x, t if targets else y)
                    net.step()
                s, c = (time.perf_counter() - t0) / k, (time.process_time() - c0) / k
                if b >= warm:
                    secs.append(s)
                    cpus.append(c)
                if last:
                    curve_loss.append(loss)
                    curve_acc.append(None)
            continue
        for e in range(epochs):
            idx, losses = order[e], []
            t0, c0 = time.perf_counter(), time.process_time()
            for at in range(0, len(idx), B):
                bi = idx[at : at + B]
                if run["zero_grad"]:
                    net.zero_grads()
                losses.append(net.forward_backward(x[bi], y[bi]))
                net.step()
            s, c = time.perf_counter() - t0, time.process_time() - c0
            if e >= warm:
                secs.append(s)
                cpus.append(c)
            if last:
                curve_loss.append(float(np.mean(losses)))
                curve_acc.append(accuracy(net, xv, yv))
        if last:
            val_acc = curve_acc[-1]
            test_acc = accuracy(net, xt, yt) if ntest else None
    return {
        "epoch_seconds": secs,
        "epoch_cpu_seconds": cpus,
        "curves": {"loss": curve_loss, "val_acc": curve_acc},
        "val_acc": val_acc,
        "test_acc": test_acc,
    }


if __name__ == "__main__":
    main()
