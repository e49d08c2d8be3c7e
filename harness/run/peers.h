/* peers.h: the tutorial's own tools (numpy, PyTorch) as peers: mlpbench exports one run
 * (spec, initial weights, data, every epoch's batch indices) to a folder, runs
 * workloads/reference/peer.py on it, and reads back its exchange file (peer.json, schema
 * "mlpbench-peer-2": its echo of the workload's identity, timings, curves, accuracies, the loss on
 * the check batch) and its gradients (grads.f32). */
#ifndef MLPB_PEERS_H
#define MLPB_PEERS_H

#include "../backends/peer_names.h"
#include "../output/report.h"
#include "plan.h"
#include "session.h"

/* Adds the peer's row (timings, curves, gradient verdict) to rw. Returns 0, 1 when the
 * peer's python or library is missing (reported, nothing added), -1 on failure. */
int peers_bench(const char *peer, const run_plan *p, const wl_session *s, report_workload *rw);

/* The peer's gradients on the check batch, judged against the reference (fp32 tolerance).
 * Same return codes. */
int peers_gradcheck(const char *peer, const run_plan *p, const wl_session *s, gc_result *r);

#endif
