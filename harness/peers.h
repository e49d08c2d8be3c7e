/* peers.h: the tutorial's own tools (numpy, PyTorch) as peers: mlpbench exports one run
 * (spec, initial weights, data, every epoch's batch indices) to a folder, runs
 * workloads/reference/peer.py on it, reads back its results file and gradients. */
#ifndef MLPB_PEERS_H
#define MLPB_PEERS_H

#include "cli.h"
#include "gradcheck.h"
#include "report.h"

/* Adds the peer's row (timings, curves, gradient verdict) to rw. Returns 0, 1 when the
 * peer's python or library is missing (reported, nothing added), -1 on failure. */
int peers_bench(const char *peer, const cli_opts *o, const workload *w, const float *params,
                const mlp_batch *gc, double ref_loss, const double *ref, report_workload *rw);

/* The peer's gradients on the check batch, judged against the reference (fp32 tolerance).
 * Same return codes. */
int peers_gradcheck(const char *peer, const cli_opts *o, const workload *w, const float *params,
                    const mlp_batch *gc, double ref_loss, const double *ref, gc_result *r);

#endif
