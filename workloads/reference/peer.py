#!/usr/bin/env python3
"""peer.py: the tutorial's own tools, and today's frameworks, as mlpbench peers. Runs the exact
run that mlpbench exported to RUN_DIR (spec, initial weights, data, every epoch's batch indices)
with numpy, PyTorch or JAX (float32) and writes RUN_DIR/peer.json (schema "mlpbench-peer-2":
the workload's identity echoed back, details, its setup, the loss on the gradient-check batch,
per-epoch seconds, curves, accuracies), plus RUN_DIR/grads.f32: the peer's gradients on the
gradient-check batch. What the run is comes from run.json's "identity" (the model's shape,
the batch, full_batch, has_accuracy: the same facts, at the same keys, as a results file's
workload), never from the workload's name.

    peer.py --peer NAME --run RUN_DIR [--grads-only]          (NAME: one of PEERS)

CPU: numpy (the tutorial's numpy loop); torch (PyTorch eager, as the tutorial writes it);
torch-fused (Adam, or SGD, with fused=True: PyTorch >= 2 where that runs on the CPU);
torch-compile (torch.compile over the forward and loss, and over the optimizer's step;
PyTorch >= 2); jax (one jitted training step per batch, batches gathered on the host in numpy,
as the tutorial does); jax-scan (the whole epoch as one compiled program: lax.scan over the
batch indices, the training split resident). A compiling peer compiles before its first timed
epoch; that time is reported as setup.compile_seconds, never as an epoch.

GPU: torch-cuda and torch-cuda-graph run the classifier on the GPU as a GPU engineer would set
it up: the training split resident on the device, the same batch order, epochs timed with CUDA
events; -graph captures one training step (zero_grad, forward, backward, capturable Adam) as a
CUDA graph replayed per full batch, the strongest PyTorch setup measured on the H200. jax-cuda
runs jax-scan's compiled epoch on the device. TF32 is off (the comparison is FP32). Without a
GPU (or jax's CUDA plugin), or for a workload they do not run (regression targets under torch's
GPU peers, accumulating gradients under -graph), they exit 77 with the reason.

The environment sets the run: MLPBENCH_PEER_THREADS (the run's threads; every framework is held
to it: torch.set_num_threads, OMP_NUM_THREADS, XLA's flags or the CPU affinity XLA sizes its
pool by) and MLPBENCH_PEER_FTZ (1: flush subnormals where the framework lets us, as mlpbench's
own rows do unless --no-ftz). Whether subnormals flush is measured here, not assumed.

Exit codes: 0 ok, 77 the peer's library, device or mode is not available, 2 bad run folder.
"""
import argparse
import json
import math
import os
import sys
import time

PEERS = ["numpy", "torch", "torch-fused", "torch-compile", "torch-cuda", "torch-cuda-graph",
         "jax", "jax-scan", "jax-cuda"]


def load(run_dir, name, dtype, shape):
    import numpy as np

    a = np.fromfile(os.path.join(run_dir, name), dtype=dtype)
    return a.reshape(shape)


def sigmoid_np(np, z):
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)



def restore_after_warmup(model, opt, start):
    """The weights back to `start` and the optimizer's state zeroed: a warm-up (compilation,
    graph capture) leaves no trace on the timed epochs."""
    import torch

    with torch.no_grad():
        for p, p0 in zip(model.parameters(), start):
            p.copy_(p0)
        for st in opt.state.values():
            for v in st.values():
                if torch.is_tensor(v):
                    v.zero_()

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
    """PyTorch on the CPU: nn.Linear layers, autograd, torch.optim, as the tutorial writes it
    (mode "eager"); "fused": the optimizer with fused=True; "compile": torch.compile over the
    forward and loss (AOTAutograd compiles the backward with it) and over the optimizer's step."""

    def __init__(self, run, flat, mode="eager"):
        import torch

        self.torch, self.run, self.mode = torch, run, mode
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
        self.opt = torch_optimizer(torch, run, self.model.parameters(), fused=mode == "fused")
        self.ce = torch.nn.CrossEntropyLoss()
        self.loss_fn, self.step_fn = self.loss_of, self.opt.step
        if mode == "compile":
            self.loss_fn = torch.compile(self.loss_of)
            self.step_fn = torch.compile(self.opt.step)

    def loss_of(self, x, y):
        z = self.model(x)
        if self.run["loss"] == "softmax_cross_entropy":
            return self.ce(z, y)
        return 0.5 * ((y - self.torch.sigmoid(z)) ** 2).sum()

    def tensors(self, x, y):
        torch = self.torch
        yt = torch.from_numpy(y.astype("int64") if self.run["loss"] == "softmax_cross_entropy" else y)
        return torch.from_numpy(x), yt

    def prepare(self, x, y, sizes):
        """torch.compile compiles on first use: one warm-up step per batch size the epochs use,
        then the weights and the optimizer's state are put back in place. Returns the seconds
        spent (compile_seconds), None when nothing compiles."""
        if self.mode != "compile":
            return None
        torch = self.torch
        t0 = time.perf_counter()
        start = [p.detach().clone() for p in self.model.parameters()]
        for n in sizes:
            self.zero_grads()
            self.forward_backward(x[:n], y[:n])
            self.step()
        restore_after_warmup(self.model, self.opt, start)
        self.zero_grads()
        return time.perf_counter() - t0

    def zero_grads(self):
        self.opt.zero_grad(set_to_none=False)

    def forward_backward(self, x, y):
        loss = self.loss_fn(*self.tensors(x, y))
        loss.backward()
        return float(loss.item())

    def step(self):
        self.step_fn()

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


def torch_optimizer(torch, run, params, fused=False, capturable=False):
    kw = {"fused": True} if fused else {}
    if run["optimizer"] == "adam":
        if capturable:
            kw["capturable"] = True
        return torch.optim.Adam(params, lr=run["lr"], betas=(run["beta1"], run["beta2"]), eps=run["eps"], **kw)
    return torch.optim.SGD(params, lr=run["lr"], **kw)


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
        self.opt = torch_optimizer(torch, run, self.model.parameters(), capturable=graph)
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
        restore_after_warmup(self.model, self.opt, start)
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


class JaxPrograms:
    """The JAX peers' compiled programs for one run, shared by every repeat: the loss and its
    gradient (jax.grad), one training step (optax), an epoch as lax.scan over the batch
    indices with the training split resident, and a block of full-batch epochs. Each shape is
    compiled once, ahead of time (lower().compile()), and the seconds that took are summed in
    compile_seconds: compiling is never inside a timed epoch. Matrix products run at FP32
    ("highest": no TF32 or bf16 passes on any device)."""

    def __init__(self, run, device):
        import jax
        import jax.numpy as jnp
        import optax

        self.jax, self.jnp, self.dev, self.run = jax, jnp, device, run
        self.cache, self.compile_seconds = {}, 0.0
        relu, ce, acc = run["activation"] == "relu", run["loss"] == "softmax_cross_entropy", not run["zero_grad"]
        if run["optimizer"] == "adam":
            self.opt = optax.adam(run["lr"], b1=run["beta1"], b2=run["beta2"], eps=run["eps"])
        else:
            self.opt = optax.sgd(run["lr"])

        def forward(p, x):  # x (B, n_in) -> z (B, n_out)
            W1, b1, W2, b2 = p
            h = x @ W1 + b1
            h = jax.nn.relu(h) if relu else jax.nn.sigmoid(h)
            return h @ W2 + b2

        def loss(p, x, y):
            z = forward(p, x)
            if ce:  # the batch mean, as cpu_mlp.c
                return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])
            e = y - jax.nn.sigmoid(z)
            return 0.5 * jnp.sum(e * e)

        def step(state, x, y):
            p, o, g_acc = state
            l, g = jax.value_and_grad(loss)(p, x, y)
            if acc:  # --no-zero-grad: gradients add up across steps, as the backends' do
                g = jax.tree_util.tree_map(jnp.add, g_acc, g)
                g_acc = g
            u, o = self.opt.update(g, o, p)
            return (optax.apply_updates(p, u), o, g_acc), l

        def take(a, bi):
            return a.at[bi].get(mode="promise_in_bounds")

        def epoch(state, X, Y, full, tail):  # full (n_batches, B), tail (n_idx % B,) or None
            state, ls = jax.lax.scan(lambda st, bi: step(st, take(X, bi), take(Y, bi)), state, full)
            if tail is not None:
                state, lt = step(state, take(X, tail), take(Y, tail))
                ls = jnp.concatenate([ls, lt[None]])
            return state, ls

        def block(state, x, y, k):  # k full-batch epochs, one step each
            return jax.lax.scan(lambda st, _: step(st, x, y), state, None, length=k)

        self.fns = {"step": jax.jit(step, donate_argnums=0), "epoch": jax.jit(epoch, donate_argnums=0),
                    "block": jax.jit(block, donate_argnums=0, static_argnums=3),
                    "grad": jax.jit(jax.value_and_grad(loss)), "forward": jax.jit(forward)}

    def compiled(self, name, *args):
        """The program for these arguments' shapes, compiled once (timed into compile_seconds)."""
        leaves = self.jax.tree_util.tree_leaves(args)
        key = (name,) + tuple((getattr(a, "shape", a), str(getattr(a, "dtype", ""))) for a in leaves)
        if key not in self.cache:
            t0 = time.perf_counter()
            self.cache[key] = self.fns[name].lower(*args).compile()
            self.compile_seconds += time.perf_counter() - t0
        return self.cache[key]

    def put(self, a):
        return self.jax.device_put(a, self.dev)

    def params(self, flat):
        r = self.run
        i, h, o = r["n_in"], r["n_hidden"], r["n_out"]
        shapes, p, at = [(i, h), (h,), (h, o), (o,)], [], 0
        for s in shapes:
            n = int(math.prod(s))
            p.append(self.put(flat[at : at + n].reshape(s).copy()))
            at += n
        return tuple(p)

    def state(self, flat):
        p = self.params(flat)
        g_acc = () if self.run["zero_grad"] else tuple(self.jnp.zeros_like(a) for a in p)
        return (p, self.opt.init(p), g_acc)

    def grads(self, flat, x, y):
        """The loss and gradients on the check batch, at the initial weights, laid out as ours."""
        import numpy as np

        p, x, y = self.params(flat), self.put(x), self.put(y)
        loss, g = self.compiled("grad", p, x, y)(p, x, y)
        return float(loss), np.concatenate([np.asarray(a).reshape(-1) for a in g]).astype(np.float32)

    def accuracy(self, p, x, y):
        import numpy as np

        if len(y) == 0:
            return None
        xd = self.put(x)
        z = np.asarray(self.compiled("forward", p, xd)(p, xd))
        return float((z.argmax(axis=1) == y).mean())


def train_jax(run, flat, d, progs, scan):
    """The JAX peers' epochs. jax: one compiled step per batch, the batch gathered on the host
    in numpy (as the tutorial does). jax-scan (and jax-cuda): one compiled program per epoch,
    the training split and every epoch's indices put on the device before the clock starts.
    An epoch ends when its result is ready (block_until_ready), as mlpbench's rows end after a
    sync."""
    import numpy as np

    jax = progs.jax
    f32, i32 = np.float32, np.int32
    I, O = run["n_in"], run["n_out"]
    ntr, nval, ntest = run["n_train"], run["n_val"], run["n_test"]
    targets, full = run["targets"], run["full_batch"]
    x = load(d, "x_train.f32", f32, (ntr, I))
    y = load(d, "t_train.f32", f32, (ntr, O)) if targets else load(d, "y_train.i32", i32, (ntr,))
    B, epochs, warm, block = run["batch"], run["epochs"], run["warmup"], run["block"]
    secs, cpus, curve_loss, curve_acc = [], [], [], []
    val_acc = test_acc = None
    if full:
        xd, yd = progs.put(x), progs.put(y)
    else:
        xv, yv = load(d, "x_val.f32", f32, (nval, I)), load(d, "y_val.i32", i32, (nval,))
        if ntest:
            xt, yt = load(d, "x_test.f32", f32, (ntest, I)), load(d, "y_test.i32", i32, (ntest,))
        order = load(d, "order.i32", i32, (epochs, run["n_idx"]))
        nb = order.shape[1] // B
        if scan:  # resident: the data and each epoch's indices, split into full batches and the tail
            X, Y = progs.put(x), progs.put(y)
            fulls = [progs.put(order[e, : nb * B].reshape(nb, B)) for e in range(epochs)]
            tails = [progs.put(order[e, nb * B :]) if order.shape[1] % B else None for e in range(epochs)]
    for r in range(run["repeat"]):
        st, last = progs.state(flat), r == run["repeat"] - 1
        if full:  # one step on the whole input per epoch, timed in blocks
            for b in range((epochs + block - 1) // block):
                k = min(block, epochs - b * block)
                if scan:
                    prog = progs.compiled("block", st, xd, yd, k)
                else:
                    prog = progs.compiled("step", st, xd, yd)
                t0, c0 = time.perf_counter(), time.process_time()
                if scan:
                    st, ls = prog(st, xd, yd)
                else:
                    for _ in range(k):
                        st, ls = prog(st, xd, yd)
                jax.block_until_ready((st, ls))
                s, c = (time.perf_counter() - t0) / k, (time.process_time() - c0) / k
                if b >= warm:
                    secs.append(s)
                    cpus.append(c)
                if last:
                    curve_loss.append(float(np.asarray(ls).reshape(-1)[-1]))
                    curve_acc.append(None)
            continue
        for e in range(epochs):
            idx = order[e]
            if scan:
                prog = progs.compiled("epoch", st, X, Y, fulls[e], tails[e])
                t0, c0 = time.perf_counter(), time.process_time()
                st, ls = prog(st, X, Y, fulls[e], tails[e])
                jax.block_until_ready((st, ls))
            else:
                tail = len(idx) % B  # the full batch's program, and the short last batch's
                prog = progs.compiled("step", st, x[idx[:B]], y[idx[:B]])
                prog_tail = progs.compiled("step", st, x[idx[-tail:]], y[idx[-tail:]]) if tail else None
                losses = []
                t0, c0 = time.perf_counter(), time.process_time()
                for at in range(0, len(idx), B):
                    bi = idx[at : at + B]
                    st, l = (prog if len(bi) == B else prog_tail)(st, x[bi], y[bi])
                    losses.append(l)
                jax.block_until_ready(st)
                ls = losses
            s, c = time.perf_counter() - t0, time.process_time() - c0
            if e >= warm:
                secs.append(s)
                cpus.append(c)
            if last:
                curve_loss.append(float(np.mean([float(v) for v in np.asarray(ls).reshape(-1)])))
                curve_acc.append(progs.accuracy(st[0], xv, yv))
        if last:
            val_acc = curve_acc[-1]
            test_acc = progs.accuracy(st[0], xt, yt) if ntest else None
    return exchange(secs, cpus, curve_loss, curve_acc, val_acc, test_acc)


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


def skip(peer, why):
    print(f"peer {peer} skipped: {why}", file=sys.stderr)
    sys.exit(77)


def cpu_threads(threads, jax_peer):
    """Holds a framework to the run's threads before it loads (they size their pools at
    start): OMP_NUM_THREADS and OPENBLAS_NUM_THREADS come from mlpbench; XLA's CPU client
    takes one thread from its flags, and sizes its pool by the CPUs it may run on otherwise.
    Returns how the threads were set."""
    how = "OMP_NUM_THREADS, OPENBLAS_NUM_THREADS"
    if not jax_peer:
        return how
    cpus = sorted(os.sched_getaffinity(0))
    said = []
    if threads == 1:
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
        said.append(f"XLA_FLAGS={flags}")
    # the flags alone left XLA's other threads (dispatch, compilation) running beside the
    # step: 1.8 CPUs per epoch at 1 thread on a 2-CPU machine; the affinity holds them all
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])
        said.append(f"CPU affinity: {threads} of {len(cpus)} CPUs (XLA sizes its pool by them)")
    else:
        said.append(f"XLA's own: one thread per CPU ({len(cpus)})")
    return ", ".join(said + [how])


def subnormals_flush(mul):
    """Measured: does 2e-38 * 0.5 (a subnormal result) come out as 0?"""
    return "flushed" if mul(2e-38, 0.5) == 0.0 else "kept"


def setup_framework(peer, threads, ftz):
    """Imports the peer's framework, set to the run's threads (and subnormals), and says how:
    the setup part of peer.json. Exits 77 when the framework or the mode is not here."""
    setup = {"threads": threads, "compile_seconds": None}
    jax_peer = peer.startswith("jax")
    setup["threads_set_by"] = cpu_threads(threads, jax_peer) if peer != "jax-cuda" else "(GPU)"
    try:
        import numpy as np

        if peer.startswith("torch"):
            import torch
        if jax_peer:
            import jax
            import jaxlib
            import optax
    except ImportError as e:
        skip(peer, f"unavailable: {e}")
    if peer == "numpy":
        setup.update(framework=f"numpy {np.__version__}", compile_mode="none (numpy calls)",
                     subnormals=subnormals_flush(lambda a, b: float(np.float32(a) * np.float32(b))))
        return setup, None
    if peer.startswith("torch"):
        ver = torch.__version__
        major = int(ver.split(".")[0]) if ver.split(".")[0].isdigit() else 0
        if peer == "torch-compile" and (major < 2 or not hasattr(torch, "compile")):
            skip(peer, f"torch.compile needs PyTorch 2 (this is {ver})")
        if peer.startswith("torch-cuda") and not torch.cuda.is_available():
            skip(peer, "no CUDA device visible to PyTorch")
        torch.set_num_threads(threads)
        flushed = torch.set_flush_denormal(bool(ftz))
        setup["threads_set_by"] = "torch.set_num_threads, " + setup["threads_set_by"]
        setup["framework"] = f"PyTorch {ver}"
        setup["subnormals"] = subnormals_flush(lambda a, b: float((torch.full((4,), a) * b)[0]))
        if ftz and not flushed:
            setup["subnormals"] += " (set_flush_denormal unsupported here)"
        setup["compile_mode"] = {"torch": "eager", "torch-fused": "eager, fused optimizer step",
                                 "torch-compile": "torch.compile (inductor): forward+loss, optimizer step",
                                 "torch-cuda": "eager", "torch-cuda-graph": "one CUDA graph per step"}[peer]
        return setup, torch
    platform = "cuda" if peer == "jax-cuda" else "cpu"
    jax.config.update("jax_platforms", platform)
    jax.config.update("jax_default_matmul_precision", "highest")
    try:  # without the CUDA plugin (jax[cuda12]) or a GPU, JAX has no such backend
        dev = jax.devices(platform)[0]
    except Exception as e:  # RuntimeError, or an assertion inside jax: a skip either way
        why = (str(e).splitlines() or [type(e).__name__])[0][:160] or type(e).__name__
        skip(peer, f"no {platform} device for JAX (jax[cuda] plugin and a GPU needed): {why}")
    setup["framework"] = f"JAX {jax.__version__} (jaxlib {jaxlib.__version__}, optax {optax.__version__})"
    setup["compile_mode"] = {"jax": "jit, one compiled step per batch (batches gathered in numpy)",
                             "jax-scan": "jit, one compiled program per epoch (lax.scan, data resident)",
                             "jax-cuda": "jit, one compiled program per epoch (lax.scan, data resident)"}[peer]
    mul = jax.jit(lambda a, b: a * b)
    setup["subnormals"] = subnormals_flush(
        lambda a, b: float(jax.device_get(mul(jax.device_put(np.full(4, a, np.float32), dev), np.float32(b)))[0]))
    if platform == "cpu" and not ftz and setup["subnormals"] == "flushed":
        setup["subnormals"] += " (XLA always flushes on the CPU; --no-ftz cannot reach it)"
    setup["device"] = str(getattr(dev, "device_kind", platform))
    return setup, dev


def torch_fused_probe(torch, run):
    """fused=True for the run's optimizer on a CPU tensor, once: a PyTorch that has no fused
    CPU kernel raises, and the peer is skipped with that reason."""
    p = torch.zeros(4, requires_grad=True)
    p.grad = torch.ones(4)
    try:
        torch_optimizer(torch, run, [p], fused=True).step()
    except (RuntimeError, TypeError, ValueError) as e:
        return str(e).splitlines()[0][:160] if str(e) else type(e).__name__
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", choices=PEERS, required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--grads-only", action="store_true")
    a = ap.parse_args()
    threads = int(os.environ.get("MLPBENCH_PEER_THREADS", "0") or 0) or len(os.sched_getaffinity(0))
    ftz = os.environ.get("MLPBENCH_PEER_FTZ", "1") != "0"
    setup, fw = setup_framework(a.peer, threads, ftz)
    import numpy as np

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
    tgpu = a.peer.startswith("torch-cuda")
    graph = a.peer == "torch-cuda-graph"
    if tgpu and (targets or run["full_batch"]):
        skip(a.peer, "it runs the classifier only")
    if graph and not run["zero_grad"]:
        skip(a.peer, "a graph step cannot accumulate gradients (--no-zero-grad)")
    if a.peer == "torch-fused":
        why = torch_fused_probe(fw, run)
        if why:
            skip(a.peer, f"fused {run['optimizer']} does not run on the CPU in PyTorch {fw.__version__}: {why}")
    if tgpu:
        fw.backends.cuda.matmul.allow_tf32 = False
        fw.backends.cudnn.allow_tf32 = False
    f32, i32 = np.float32, np.int32
    flat = load(a.run, "params.f32", f32, (-1,))
    gx = load(a.run, "gc_x.f32", f32, (n_gc, I))
    gy = load(a.run, "gc_t.f32", f32, (n_gc, O)) if targets else load(a.run, "gc_y.i32", i32, (n_gc,))
    if a.peer.startswith("jax"):
        progs = JaxPrograms(run, fw)
        gc_loss, grads = progs.grads(flat, gx, gy)
        setup["compile_seconds"] = 0.0  # the check batch's programs are not the training's
        progs.compile_seconds = 0.0
    else:
        mode = {"torch-fused": "fused", "torch-compile": "compile"}.get(a.peer, "eager")
        Net = NumpyMLP if a.peer == "numpy" else (lambda r, f: TorchMLP(r, f, mode))
        net = TorchGpuMLP(run, flat, False) if tgpu else Net(run, flat)
        net.zero_grads()
        gc_loss = net.forward_backward(gx, gy)
        grads = net.grads_flat()
    grads.astype(f32).tofile(os.path.join(a.run, "grads.f32"))
    result = {"schema": "mlpbench-peer-2", "peer": a.peer, "identity": run["identity"],
              "python": sys.version.split()[0], "gradcheck_loss": gc_loss,
              "epoch_seconds": [], "epoch_cpu_seconds": [],
              "curves": {"loss": [], "val_acc": []}, "val_acc": None, "test_acc": None}
    if not a.grads_only:
        if a.peer.startswith("jax"):
            result.update(train_jax(run, flat, a.run, progs, a.peer != "jax"))
            setup["compile_seconds"] = progs.compile_seconds
        elif tgpu:
            result.update(train_gpu(run, flat, a.run, graph))
        else:
            out, setup["compile_seconds"] = train(run, Net, flat, a.run)
            result.update(out)
    if tgpu:
        setup["device"] = fw.cuda.get_device_name()
    setup["process_threads"] = len(os.listdir("/proc/self/task"))  # every thread it started
    result["setup"] = setup
    dev = f", {setup['device']}" if "device" in setup else ""
    comp = f", compiled in {setup['compile_seconds']:.2f} s" if setup["compile_seconds"] else ""
    result["details"] = (f"{setup['framework']}, {setup['compile_mode']}{dev}, {threads} thread{'s' if threads != 1 else ''}, "
                         f"subnormals {setup['subnormals'].split(' ')[0]}{comp}, FP32")
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
    compile_s = None
    for r in range(run["repeat"]):
        net, last = Net(run, flat), r == run["repeat"] - 1
        if hasattr(net, "prepare"):  # torch.compile: compiled before the clock starts
            sizes = [ntr] if full else sorted({B, len(order[0]) % B} - {0}, reverse=True)
            c = net.prepare(x, t if targets else y, sizes)
            compile_s = c if compile_s is None else compile_s
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
    return exchange(secs, cpus, curve_loss, curve_acc, val_acc, test_acc), compile_s


if __name__ == "__main__":
    main()
