#!/usr/bin/env python3
"""sass_loops.py SASS_FILE [--kernel REGEX] [--min RATIO] [--json]: the hot loops of each kernel
in `cuobjdump -sass` (or `nvdisasm`) output, and their FMAs per shared-memory load.

A loop is a backward branch (a BRA whose target lies before it). Each innermost loop (it holds
no other loop) with at least 8 FFMA that reads shared memory is listed: its FFMA, its LDS by
width (LDS, LDS.64, LDS.128), its STS, and FFMA per LDS. A hot loop is one of those whose
operands come in 128-bit loads: the register micro-tiles of the products that touch W1, the
loops the performance model (fused_model.py) times. With --min, exits 1 when a hot loop of a
kernel matching --kernel falls below RATIO, or when such a kernel has no hot loop at all (a
scalar loop like issue 14's, 0.8 FFMA per LDS, fails so; a check that finds nothing must not
pass). Standard library only; reads text, needs no GPU."""
import argparse
import json
import re
import sys

FUNC = re.compile(r"Function : (\S+)")
INSN = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)\s*([^;]*);")
HOT_FFMA = 8


def parse(text):
    """{mangled kernel name: [(address, opcode, operands)]}"""
    funcs, cur = {}, None
    for line in text.splitlines():
        m = FUNC.search(line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            continue
        m = INSN.search(line)
        if m and cur is not None:
            cur.append((int(m.group(1), 16), m.group(3), m.group(4).strip()))
    return funcs


def loops(insns):
    """innermost loops as (start, end) addresses, each with its counts"""
    spans = []
    for addr, op, args in insns:
        if op.startswith("BRA"):
            t = re.match(r"(?:`\(\.L_x_\d+\)|0x([0-9a-f]+))", args)
            if t and t.group(1) and int(t.group(1), 16) < addr:
                spans.append((int(t.group(1), 16), addr))
    inner = [s for s in spans if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]
    out = []
    for lo, hi in inner:
        c = {"start": lo, "end": hi, "FFMA": 0, "LDS": 0, "LDS.64": 0, "LDS.128": 0, "STS": 0}
        for addr, op, _ in insns:
            if lo <= addr <= hi:
                if op.startswith("FFMA"):
                    c["FFMA"] += 1
                elif op.startswith("LDS"):
                    w = ".128" if ".128" in op else ".64" if ".64" in op else ""
                    c["LDS" + w] += 1
                elif op.startswith("STS"):
                    c["STS"] += 1
        c["lds_total"] = c["LDS"] + c["LDS.64"] + c["LDS.128"]
        c["ffma_per_lds"] = c["FFMA"] / c["lds_total"] if c["lds_total"] else float("inf")
        out.append(c)
    return out


def demangle(name):
    """_ZN9mlpb_cuda20fused_forward_kernelE...: the length prefixes say where names end"""
    m = re.match(r"_ZN(\d+)(\w+)", name)
    if not m:
        return name
    rest = m.group(2)[int(m.group(1)):]
    n = re.match(r"(\d+)", rest)
    return rest[len(n.group(1)) : len(n.group(1)) + int(n.group(1))] if n else name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sass")
    ap.add_argument("--kernel", default="fused")
    ap.add_argument("--min", type=float, default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    funcs = parse(open(a.sass).read())
    report, bad = {}, []
    for name, insns in funcs.items():
        short = demangle(name)
        if not re.search(a.kernel, short):
            continue
        fed = [c for c in loops(insns) if c["FFMA"] >= HOT_FFMA and c["lds_total"]]
        hot = [c for c in fed if c["LDS.128"]]
        report[short] = fed
        if a.min is not None:
            if not hot:
                bad.append(f"{short}: no hot loop found")
            for c in hot:
                if c["ffma_per_lds"] < a.min:
                    bad.append(f"{short}: loop 0x{c['start']:x}-0x{c['end']:x} has "
                               f"{c['ffma_per_lds']:.2f} FFMA per LDS (< {a.min})")
    if a.json:
        print(json.dumps(report, indent=1))
    else:
        print("| kernel | loop | hot | FFMA | LDS.32 | LDS.64 | LDS.128 | STS | FFMA per LDS |")
        print("|---|---|---|---|---|---|---|---|---|")
        for short, fed in sorted(report.items()):
            for c in fed:
                print(f"| {short} | 0x{c['start']:x}-0x{c['end']:x} | {'yes' if c['LDS.128'] else '-'}"
                      f" | {c['FFMA']} | {c['LDS']} | {c['LDS.64']} | {c['LDS.128']} | {c['STS']} | "
                      f"{c['ffma_per_lds']:.2f} |")
    if not report:
        bad.append(f"no kernel matches '{a.kernel}'")
    for b in bad:
        print("sass-check: " + b, file=sys.stderr)
    return 1 if bad and a.min is not None else 0


if __name__ == "__main__":
    sys.exit(main())
