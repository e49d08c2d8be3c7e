/* sweep.h: time per epoch against batch size (1..1024) and hidden width (16..4096). */
#ifndef MLPB_SWEEP_H
#define MLPB_SWEEP_H

#include "../../workloads/workload.h"
#include "../output/report.h"

/* For rows[0..nb) of rw, run by bes[0..nb), that ran and passed their check: the steady-state
 * training step at each size (runs of many steps, timed as bench times an epoch: the resident
 * path where a backend has one, else one sync per run; wall time either way), scaled to an epoch
 * (samples per epoch / batch steps). Fills rw->sweep. A full-batch workload has no batch
 * size to sweep: nothing is done. */
void sweep_run(const mlp_backend *const *bes, int nb, const mlp_options *opt, int quiet,
               const workload *w, report_workload *rw);

#endif
