#!/usr/bin/env python3
"""fused_model.py: a performance model of the fused CUDA training step (impls/cuda/fused.cuh),
written down so that a GPU run can confirm or refute it. It PREDICTS; it measures nothing.

  fused_model.py                          both kernels on A100, H100, H200, term by term
  fused_model.py --kernel new --slice 8 --split 4 --device H200 --csv
                                          one point (the device check's sweep calls this)
  fused_model.py --check                  exits 1 unless the new kernel's default predicts
                                          <= 5 ms per epoch on H100 and H200 (run in CI)

Workload: the Fashion tutorial epoch, 468 steps of batch 128 on the 784-500-10 classifier
(--batch, --steps, --inputs, --hidden, --outputs change it).

What the code determines (counted from the kernels' structure, per thread block and step):
  - the FMA warp instructions of the two products that touch W1 (forward x W1, dW1 = x^T dH);
  - the shared-memory wavefronts of those products: their loads (sass_loops.py reads the FFMA
    per LDS of each hot loop from the machine code; --ffma-per-lds takes what it found) and
    the staging stores, each counted from the access pattern (a wavefront is one 128-byte
    shared-memory access of a warp; distinct bytes / 128, at least one);
  - the L2 bytes: every block re-reads the rows of x it needs, its W1 columns, and its share
    of the gradient, Adam moments and parameters;
  - the DRAM bytes: the step's rows of x gathered from the resident data set (188 MB for
    60,000 Fashion images, larger than any L2 here), once per step;
  - the work outside the products (softmax and dz, dH, dW2, db1, the Adam updates), in issue
    slots;
  - the chunks (each a wait on L2 before its products can start) and the barriers per step.
The model: a product phase takes, per SM, the largest of FMA issue, shared wavefronts and
exposed L2 latency per chunk; the grid's L2 and DRAM traffic bound it from below too. The
work outside the products and the barriers add to it. A step is both phases; an epoch is its
steps plus the launches of one call.

Device figures: each row says where it comes from. 'datasheet' is the vendor's; 'measured' is
../shared/gpu-reference/README.md (results/reference/gpu-h200-2026-11-27.md), an H200 of this
project; 'assumed' is neither, a lead the device check's Nsight Compute columns test.
"""
import argparse
import math
import sys

DEVICES = {
    # SMs, SM clock (GHz) at boost, FP32 lanes per SM, DRAM TB/s, L2 MB; max_per_sm is not
    # the device's but the epoch kernel's launch bounds for its architecture
    "A100": dict(sms=108, ghz=1.41, lanes=64, dram_tbs=2.039, l2_mb=40, max_per_sm=1,
                 src="datasheet (A100 SXM4 80GB: 108 SMs, 1410 MHz boost, 19.5 TFLOP/s FP32 = "
                     "108 x 64 lanes x 2 x 1.41 GHz, 2039 GB/s, 40 MB L2)"),
    "H100": dict(sms=132, ghz=1.98, lanes=128, dram_tbs=3.35, l2_mb=50, max_per_sm=2,
                 src="datasheet (H100 SXM5: 132 SMs, 67 TFLOP/s FP32 = 132 x 128 lanes x 2 x "
                     "1.98 GHz, 3.35 TB/s, 50 MB L2)"),
    "H200": dict(sms=132, ghz=1.98, lanes=128, dram_tbs=4.8, l2_mb=60, max_per_sm=2,
                 src="datasheet (H200 SXM: H100's SMs and FP32 rate, 4.8 TB/s); 132 SMs, 60 MB "
                     "L2 and 1980 MHz under load measured (gpu-reference, KINDS.md)"),
}
COMMON = {
    "smem_wavefronts_per_clk": (1, "datasheet/programming guide: 32 banks x 4 bytes per clock "
                                   "per SM (Ampere, Hopper)"),
    "warp_issue_per_clk": (4, "datasheet: 4 schedulers per SM, one warp instruction each per "
                              "clock"),
    "grid_sync_us": (0.97, "measured: grid.sync() of a 132-block cooperative kernel on the "
                           "H200 (gpu-reference launch_floor.cu); used for A100 and H100 too"),
    "graph_node_us": (0.60, "measured: one kernel node of a replayed CUDA graph, H200 "
                            "(gpu-reference); used per launch of a call"),
    "meet_us": (0.97, "assumed: the slice's own barrier (an atomic counter, R blocks) costs "
                      "what the grid barrier costs (same round trips to L2; fewer arrivals)"),
    "l2_bytes_per_clk": (5120, "assumed: A100 whitepaper's L2 read bandwidth per clock, taken "
                               "for Hopper too (no Hopper figure published)"),
    "l2_latency_clk": (300, "assumed: an L2 hit seen by a load, in SM clocks (third-party "
                            "microbenchmarks put A100 and H100 near 200-300)"),
    "other_ipc": (2.0, "assumed: warp instructions per clock outside the products (scalar "
                       "loops with global loads; half the issue rate)"),
}


def fig(name):
    return COMMON[name][0]


def old_kernel(B, I, H, O, dev, **_):
    """issue 14's kernel: 16 units per block, 64 x 32 scalar panels, 5 LDS per 4 FFMA"""
    S, T, KC, TILE = 16, 256, 32, 64
    blocks = math.ceil(H / S)
    warps = T // 32
    # forward: ceil(B/64) row tiles x ceil(I/32) chunks; per chunk each warp does 32 k x 4
    # FFMA and 32 k x 5 LDS (ws[k][tj] 64 bytes: 1 wavefront; xs[tr+16q][k], 2 rows: 1)
    f_chunks = math.ceil(B / TILE) * math.ceil(I / KC)
    d_chunks = math.ceil(I / TILE) * math.ceil(B / KC)
    chunks = f_chunks + d_chunks
    ffma = chunks * warps * KC * 4
    lds_wf = chunks * warps * KC * 5
    sts_wf = chunks * (TILE * KC + KC * S) // 32  # conflict-free scalar stores
    l2 = blocks * (2 * B * I * 4 + I * S * 4 + I * S * 4 * 7)  # x twice, W1, its update
    other = (B * O * 20 + B * S * O * 2 + S * O * B * 2 + I * S * 12) / 32  # warp instrs
    return dict(name="issue 14 (old)", blocks=blocks, per_sm=math.ceil(blocks / dev["sms"]),
                ffma=ffma, lds_wf=lds_wf, sts_wf=sts_wf, chunks=chunks, prefetch=False,
                l2=l2, other=other, meets=0, ffma_per_lds=0.8)


def new_kernel(B, I, H, O, dev, slice_=16, split=0, **_):
    """issue 28's kernel: S units per slice, R blocks per slice, 4 x 4 register tiles"""
    S, T, KC, MT = slice_, 256, 64, 32
    slices = math.ceil(H / S)
    R = split or max(1, min(8, dev["sms"] // slices))
    blocks = slices * R
    G = 2 * S                      # threads per k-group
    KG = T // G                    # k-groups
    kgw = max(1, 32 // G)          # k-groups per warp
    rows = math.ceil(B / R)
    f_chunks = math.ceil(rows / MT) * math.ceil(I / KC)
    panels = math.ceil(I / MT)
    d_chunks = math.ceil(math.ceil(panels / R)) * math.ceil(B / KC)
    chunks = f_chunks + d_chunks
    # per chunk: the tile does MT x KC x S FMAs = KC x S warp FFMAs; each thread KC / KG
    # steps of 2 LDS.128: 8 warps x 2 x KC / KG warp loads; A: kgw rows of 128 bytes, B: kgw
    # rows of min(S, 16) floats
    ffma = chunks * KC * S
    lds_per_chunk = (T // 32) * 2 * KC // KG
    wf_a = kgw
    wf_b = math.ceil(kgw * min(S, 16) * 4 / 128)
    lds_wf = chunks * (lds_per_chunk // 2) * (wf_a + wf_b)
    # staging: forward A: MT x KC scalar stores, conflict-free; B: KC x S; dW1 A: KC x MT
    sts_wf = f_chunks * (MT * KC + KC * S) // 32 + d_chunks * (KC * MT) // 32
    # panel ends: 4 STS.128 per thread (4 wavefronts each) and 32 x S x KG loads
    n_panels = math.ceil(rows / MT) + math.ceil(panels / R)
    sts_wf += n_panels * ((T // 32) * 4 * 4 + S * KG)
    l2 = blocks * (rows * I * 4 + B * math.ceil(panels / R) * MT * 4   # x: forward, dW1
                   + I * S * 4                                          # W1 slice (forward)
                   + math.ceil(I / R) * S * 4 * 7                       # W1 share: g, m, v, p
                   + B * S * 4 + S * (O + 1) * 4 * 2)                   # h, W2 copy
    other = (B * O * 20                       # softmax and dz, every block
             + B * S * (2 * O + 4)            # dH and h into shared memory
             + math.ceil((S * O + S) / R) * B * 3   # dW2, db1 share
             + math.ceil(I / R) * S * 12      # Adam on the W1 share
             + math.ceil(rows / MT) * MT * O * S * 2) / 32  # z products
    return dict(name=f"issue 28 (slice {S}, {R} per slice)", blocks=blocks, S=S, R=R,
                per_sm=math.ceil(blocks / dev["sms"]), ffma=ffma, lds_wf=lds_wf,
                sts_wf=sts_wf, chunks=chunks, prefetch=True, l2=l2, other=other,
                meets=1 if R > 1 else 0, ffma_per_lds=8.0)


def predict(k, dev, B, I, steps, ffma_per_lds=None):
    """term by term, microseconds per step; and ms per epoch"""
    clk = dev["ghz"] * 1e3  # clocks per microsecond
    per_sm = k["per_sm"]
    issue = fig("warp_issue_per_clk") * dev["lanes"] / 128  # A100: 2 FFMA warps per clock
    lds_wf = k["lds_wf"]
    if ffma_per_lds:  # the machine code's figure replaces the counted one
        lds_wf = lds_wf * k["ffma_per_lds"] / ffma_per_lds
    t = {}
    t["fma"] = per_sm * k["ffma"] / issue / clk
    t["smem"] = per_sm * (lds_wf + k["sts_wf"]) / fig("smem_wavefronts_per_clk") / clk
    # a chunk cannot start before its loads return: with a register prefetch the wait
    # overlaps the previous chunk's products; without, it adds to them
    lat = fig("l2_latency_clk") / clk
    per_chunk = max(t["fma"], t["smem"]) / k["chunks"]
    t["latency"] = k["chunks"] * (max(0.0, lat - per_chunk) if k["prefetch"] else lat)
    t["l2"] = k["l2"] / (fig("l2_bytes_per_clk") * clk)
    t["dram"] = B * I * 4 / (dev["dram_tbs"] * 1e6)
    t["products"] = max(t["fma"], t["smem"]) + t["latency"]
    t["other"] = per_sm * k["other"] / fig("other_ipc") / clk
    t["barriers"] = fig("grid_sync_us") + k["meets"] * fig("meet_us")
    t["step"] = max(t["products"], t["l2"], t["dram"]) + t["other"] + t["barriers"]
    launches = 4  # memset, Adam table, the epoch's one launch, Adam's count
    t["epoch_ms"] = (steps * t["step"] + launches * fig("graph_node_us")) / 1e3
    t["bound"] = max(("fma", t["fma"]), ("smem", t["smem"]), ("l2", t["l2"]),
                     ("dram", t["dram"]), key=lambda x: x[1])[0]
    return t


def table(args):
    out = []
    for dn in args.devices:
        dev = DEVICES[dn]
        for kind in ("old", "new"):
            k = kernel(kind, args, dev)
            if k is None:
                continue
            t = predict(k, dev, args.batch, args.inputs, args.steps, args.ffma_per_lds)
            out.append((dn, k, t))
    return out


def kernel(kind, args, dev):
    f = old_kernel if kind == "old" else new_kernel
    k = f(args.batch, args.inputs, args.hidden, args.outputs, dev, slice_=args.slice,
          split=args.split)
    # the cooperative grid must be resident: the epoch kernel's launch bounds allow two blocks
    # per SM on sm_90 and one on sm_80 (fused.cuh, FUSED_EPOCH_BLOCKS_PER_SM)
    return k if k["per_sm"] <= dev["max_per_sm"] else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", choices=["old", "new", "both"], default="both")
    ap.add_argument("--device", action="append", choices=sorted(DEVICES))
    ap.add_argument("--slice", type=int, default=16)
    ap.add_argument("--split", type=int, default=0, help="blocks per slice (0: as the plan)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--inputs", type=int, default=784)
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--outputs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=468)
    ap.add_argument("--ffma-per-lds", type=float, default=None,
                    help="the hot loops' figure from sass_loops.py (default: the design's)")
    ap.add_argument("--csv", action="store_true", help="one line per point: step_us,epoch_ms")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--sources", action="store_true", help="print every figure's source")
    ap.add_argument("--assumed-ffma-per-lds", action="store_true",
                    help="print the new kernel's FFMA per shared load the model assumes (the "
                         "floor sass-check.sh holds the machine code to)")
    args = ap.parse_args()
    args.devices = args.device or ["A100", "H100", "H200"]
    if args.assumed_ffma_per_lds:
        print(new_kernel(128, 784, 500, 10, DEVICES["H200"])["ffma_per_lds"])
        return 0
    if args.sources:
        for dn, d in DEVICES.items():
            print(f"{dn}: {d['src']}")
        for n, (v, src) in COMMON.items():
            print(f"{n} = {v}: {src}")
        return 0
    if args.csv:
        for dn in args.devices:
            kinds = ["old", "new"] if args.kernel == "both" else [args.kernel]
            for kind in kinds:
                k = kernel(kind, args, DEVICES[dn])
                if k is None:
                    print(f"{dn},{kind},,,does not fit")
                    continue
                t = predict(k, DEVICES[dn], args.batch, args.inputs, args.steps,
                            args.ffma_per_lds)
                print(f"{dn},{kind},{t['step']:.2f},{t['epoch_ms']:.2f},{t['bound']}")
        return 0
    rows = table(args)
    print(f"Prediction (not a measurement): {args.inputs}-{args.hidden}-{args.outputs}, batch "
          f"{args.batch}, {args.steps} steps per epoch. Terms in us per step.")
    print("| device | kernel | blocks | FMA | smem | L2 wait | L2 bw | DRAM | other | "
          "barriers | step (us) | epoch (ms) | binds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dn, k, t in rows:
        print(f"| {dn} | {k['name']} | {k['blocks']} | {t['fma']:.2f} | {t['smem']:.2f} | "
              f"{t['latency']:.2f} | {t['l2']:.2f} | {t['dram']:.3f} | {t['other']:.2f} | "
              f"{t['barriers']:.2f} | {t['step']:.2f} | {t['epoch_ms']:.2f} | {t['bound']} |")
    if args.check:
        bad = [(dn, t["epoch_ms"]) for dn, k, t in rows
               if k["name"].startswith("issue 28") and dn in ("H100", "H200")
               and t["epoch_ms"] > 5.0]
        for dn, ms in bad:
            print(f"fused_model: the new kernel predicts {ms:.2f} ms per epoch on {dn} (> 5)",
                  file=sys.stderr)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
