#!/usr/bin/env python3
"""peer.py: the tutorial's own tools as mlpbench peers. Runs the exact run that mlpbench
exported to RUN_DIR (spec, initial weights, data, every epoch's batch indices) with numpy
or PyTorch (CPU, float32) and writes RUN_DIR/peer.json (schema "mlpbench-peer-2": the
workload's identity echoed back, details, the loss on the gradient-check batch, per-epoch
seconds, curves, accuracies), plus RUN_DIR/grads.f32: the peer's gradients on the
gradient-check batch. What the run is comes from run.json's "identity" (the model's shape,
the batch, full_batch, has_accuracy: the same facts, at the same keys, as a results file's
workload), never from the workload's name.

    peer.py --peer numpy|torch|torch-cuda|torch-cuda-graph --run RUN_DIR [--grads-only]

torch-cuda and torch-cuda-graph run the classifier on the GPU as a GPU engineer would set it up:
the training split resident on the device, the same batch order, epochs timed with CUDA
events; -graph captures one training step (zero_grad, forward, backward, capturable Adam) as
a CUDA graph replayed per full batch, the strongest PyTorch setup measured on the H200.
TF32 is off (the comparison is FP32). Without a GPU, or for a workload they do not run
(regression targets, accumulating gradients under -graph), they exit 77 with the reason.

Exit codes: 0 ok, 77 the peer's library, device or mode is not available, 2 bad run folder.
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


def exchange(secs, cpus, curve_loss, curve_acc, val_acc, test_acc, devs=None):
    """A training run's part of peer.json ("mlpbench-peer-2"). epoch_seconds is wall time
    after a sync, as mlpbench's own rows; a GPU peer adds its CUDA-event time beside it."""
    out = {
        "epoch_seconds": secs,
        "epoch_cpu_seconds": cpus,
        "curves": {"loss": curve_loss, "val_acc": curve_acc},
        "val_acc": val_acc,
        "test_acc": test_acc,
    }
    if devs is not None:
        out["epoch_device_seconds"] = devs
    return out


class TorchGpuMLP:
    """The classifier on a CUDA device: data resident, optional CUDA graph per step."""

    def __init__(self, run, flat, graph):
        import torch

        self.torch, self.run, self.dev = torch, run, torch.device("cuda")
        cpu = TorchMLP(run, flat)
        self.model = cpu.model.to(self.dev)
        self.l1, self.l2 = self.model[0], self.model[2]
        params = self.model.parameters()
        if run["optimizer"] == "adam":
            self.opt = torch.optim.Adam(params, lr=run["lr"], betas=(run["beta1"], run["beta2"]),
                                        eps=run["eps"], capturable=graph)
        else:
            self.opt = torch.optim.SGD(params, lr=run["lr"])
        self.ce = torch.nn.CrossEntropyLoss()
        self.graph = None

    def zero_grads(self):
        self.opt.zero_grad(set_to_none=False)

    def loss_of(self, xb, yb):
        return self.ce(self.model(xb), yb)

    def forward_backward(self, x, y):  # numpy in, for the gradient check
        torch = self.torch
        loss = self.loss_of(torch.from_numpy(x).to(self.dev), torch.from_numpy(y.astype("int64")).to(self.dev))
        loss.backward()
        return float(loss.item())

    def grads_flat(self):
        import numpy as np

        g = [self.l1.weight.grad.T, self.l1.bias.grad, self.l2.weight.grad.T, self.l2.bias.grad]
        return np.concatenate([t.detach().cpu().numpy().reshape(-1) for t in g]).astype(np.float32)

    def capture(self, B, I):
        """One step as a graph on static buffers. Warm-up steps move the weights and Adam's
        state, so both are put back to their starting values afterwards, in place."""
        torch = self.torch
        self.sx = torch.zeros(B, I, device=self.dev)
        self.sy = torch.zeros(B, dtype=torch.int64, device=self.dev)
        start = [p.detach().clone() for p in self.model.parameters()]
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                self.opt.zero_grad(set_to_none=True)
                self.loss_of(self.sx, self.sy).backward()
                self.opt.step()
        torch.cuda.current_stream().wait_stream(s)
        self.graph = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            self.sloss = self.loss_of(self.sx, self.sy)
            self.sloss.backward()
            self.opt.step()
        with torch.no_grad():
            for p, p0 in zip(self.model.parameters(), start):
                p.copy_(p0)
            for st in self.opt.state.values():
                for v in st.values():
                    if torch.is_tensor(v):
                        v.zero_()
        torch.cuda.synchronize()

    def outputs_acc(self, x, y):
        torch = self.torch
        if len(y) == 0:
            return None
        with torch.no_grad():
            z = self.model(torch.from_numpy(x).to(self.dev))
            return float((z.argmax(1).cpu().numpy() == y).mean())


def train_gpu(run, flat, d, graph):
    """The classifier's epochs on the GPU, timed with CUDA events (device time, as mlpbench's
    cuda backend reports), the same batch order; evaluation untimed."""
    import numpy as np
    import torch

    f32, i32 = np.float32, np.int32
    I, ntr, nval, ntest = run["n_in"], run["n_train"], run["n_val"], run["n_test"]
    dev = torch.device("cuda")
    X = torch.from_numpy(load(d, "x_train.f32", f32, (ntr, I))).to(dev)
    Y = torch.from_numpy(load(d, "y_train.i32", i32, (ntr,)).astype("int64")).to(dev)
    xv, yv = load(d, "x_val.f32", f32, (nval, I)), load(d, "y_val.i32", i32, (nval,))
    if ntest:
        xt, yt = load(d, "x_test.f32", f32, (ntest, I)), load(d, "y_test.i32", i32, (ntest,))
    order = torch.from_numpy(load(d, "order.i32", i32, (run["epochs"], run["n_idx"])).astype("int64")).to(dev)
    B, epochs, warm = run["batch"], run["epochs"], run["warmup"]
    secs, cpus, devs, curve_loss, curve_acc = [], [], [], [], []
    val_acc = test_acc = None
    for r in range(run["repeat"]):
        net, last = TorchGpuMLP(run, flat, graph), r == run["repeat"] - 1
        if graph:
            net.capture(B, I)
        for e in range(epochs):
            idx, n = order[e], order.shape[1]
            total = torch.zeros((), device=dev)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            t0, c0 = time.perf_counter(), time.process_time()
            start.record()
            steps = 0
            for at in range(0, n, B):
                bi = idx[at : at + B]
                if graph and bi.shape[0] == B:
                    torch.index_select(X, 0, bi, out=net.sx)
                    torch.index_select(Y, 0, bi, out=net.sy)
                    net.graph.replay()
                    total += net.sloss.detach()
                else:  # eager, or the short last batch under -graph
                    if run["zero_grad"] or graph:
                        net.opt.zero_grad(set_to_none=False)  # the graph owns the grad tensors
                    loss = net.loss_of(X[bi], Y[bi])
                    loss.backward()
                    net.opt.step()
                    total += loss.detach()
                steps += 1
            end.record()
            torch.cuda.synchronize()
            s, c = time.perf_counter() - t0, time.process_time() - c0
            if e >= warm:
                secs.append(s)
                cpus.append(c)
                devs.append(start.elapsed_time(end) / 1e3)
            if last:
                curve_loss.append(float(total.item()) / steps)
                curve_acc.append(net.outputs_acc(xv, yv))
        if last:
            val_acc = curve_acc[-1]
            test_acc = net.outputs_acc(xt, yt) if ntest else None
    return exchange(secs, cpus, curve_loss, curve_acc, val_acc, test_acc, devs)


def accuracy(net, x, y):
    if len(y) == 0:
        return None
    out = net.outputs(x)
    return float((out.argmax(axis=1) == y).mean())


def identity_facts(ident):
    """The flat names the networks below read, from run.json's "identity" (laid out as a
    results file's workload: "spec" holds the shape)."""
    spec = ident["spec"]
    facts = {"n_in": spec["n_in"], "n_hidden": spec["n_hidden"], "n_out": spec["n_out"],
             "n_train": ident["n_train"], "batch": ident["batch"],
             "zero_grad": bool(ident["zero_grad"]), "full_batch": bool(ident["full_batch"]),
             "targets": not ident["has_accuracy"]}
    for k in ("n_in", "n_hidden", "n_out", "n_train", "batch"):
        if not isinstance(facts[k], int) or facts[k] < 1:
            raise TypeError(f"{k} is {facts[k]!r}")
    return facts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", choices=["numpy", "torch", "torch-cuda", "torch-cuda-graph"], required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--grads-only", action="store_true")
    a = ap.parse_args()
    try:
        import numpy as np

        if a.peer.startswith("torch"):
            import torch

            torch.set_num_threads(int(os.environ.get("MLPBENCH_PEER_THREADS", "0")) or torch.get_num_threads())
    except ImportError as e:
        print(f"peer {a.peer} unavailable: {e}", file=sys.stderr)
        sys.exit(77)
    gpu = a.peer.startswith("torch-cuda")
    if gpu and not torch.cuda.is_available():
        print(f"peer {a.peer} skipped: no CUDA device visible to PyTorch", file=sys.stderr)
        sys.exit(77)
    try:
        with open(os.path.join(a.run, "run.json")) as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        print(f"peer: {a.run}/run.json: {e}", file=sys.stderr)
        sys.exit(2)
    try:
        run.update(identity_facts(run["identity"]))
    except (KeyError, TypeError) as e:
        print(f"peer: {a.run}/run.json: no usable \"identity\" ({e!r})", file=sys.stderr)
        sys.exit(2)
    I, O, n_gc = run["n_in"], run["n_out"], run["n_gc"]
    targets = run["targets"]  # regression targets instead of class labels
    graph = a.peer == "torch-cuda-graph"
    if gpu and (targets or run["full_batch"]):
        print(f"peer {a.peer} skipped: it runs the classifier only", file=sys.stderr)
        sys.exit(77)
    if graph and not run["zero_grad"]:
        print(f"peer {a.peer} skipped: a graph step cannot accumulate gradients (--no-zero-grad)",
              file=sys.stderr)
        sys.exit(77)
    if gpu:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    f32, i32 = np.float32, np.int32
    flat = load(a.run, "params.f32", f32, (-1,))
    Net = NumpyMLP if a.peer == "numpy" else TorchMLP
    if a.peer == "torch":
        details = f"PyTorch {torch.__version__} eager, CPU, {torch.get_num_threads()} threads"
    elif gpu:
        details = (f"PyTorch {torch.__version__} {'one CUDA graph per step' if graph else 'eager'}, "
                   f"{torch.cuda.get_device_name()}, FP32")
    else:
        details = f"numpy {np.__version__} float32"

    net = TorchGpuMLP(run, flat, False) if gpu else Net(run, flat)
    gx = load(a.run, "gc_x.f32", f32, (n_gc, I))
    gy = load(a.run, "gc_t.f32", f32, (n_gc, O)) if targets else load(a.run, "gc_y.i32", i32, (n_gc,))
    net.zero_grads()
    gc_loss = net.forward_backward(gx, gy)
    net.grads_flat().astype(f32).tofile(os.path.join(a.run, "grads.f32"))
    result = {"schema": "mlpbench-peer-2", "peer": a.peer, "identity": run["identity"], "details": details,
              "python": sys.version.split()[0], "gradcheck_loss": gc_loss,
              "epoch_seconds": [], "epoch_cpu_seconds": [],
              "curves": {"loss": [], "val_acc": []}, "val_acc": None, "test_acc": None}
    if not a.grads_only:
        result.update(train_gpu(run, flat, a.run, graph) if gpu else train(run, Net, flat, a.run))
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
    return exchange(secs, cpus, curve_loss, curve_acc, val_acc, test_acc)


if __name__ == "__main__":
    main()
