# issue24-wait-policy-summary.py RUNS.tsv: per phase, workload and threads, each candidate's
# median of run medians (min..max), its GEMM floor, naive, and the load average seen.
import sys, statistics as st, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
g = collections.OrderedDict()
for ph, wl, th, c, r, load, b, fl, nv in rows:
    g.setdefault((ph, wl, th), collections.OrderedDict()).setdefault(c, []).append((float(b), float(fl) if fl != "-" else None, float(nv) if nv != "-" else None, float(load)))
def fmt(v): return "%.1f" % v if v < 1000 else "%.0f" % v
for (ph, wl, th), cs in g.items():
    print(f"\n### {ph}, {wl}, {th} threads")
    print("| candidate | runs | blas epoch median (min..max) ms | GEMM floor median ms | naive median ms | naive/blas | load1 (min..max) |")
    print("|---|---|---|---|---|---|---|")
    for c, v in cs.items():
        b = [x[0] for x in v]; fl = [x[1] for x in v if x[1]]; nv = [x[2] for x in v if x[2]]; ld = [x[3] for x in v]
        mb = st.median(b)
        print(f"| {c} | {len(v)} | {fmt(mb)} ({fmt(min(b))}..{fmt(max(b))}) | {fmt(st.median(fl)) if fl else '-'} | {fmt(st.median(nv)) if nv else '-'} | {'%.2f' % (st.median(nv)/mb) if nv else '-'} | {min(ld):.1f}..{max(ld):.1f} |")
