/* sweep.h: time per epoch against batch size (1..1024) and hidden width (16..4096). */
#ifndef MLPB_SWEEP_H
#define MLPB_SWEEP_H

#include "cli.h"
#include "report.h"

/* For every row of rw that ran and passed its check: the median training step at each
 * size, scaled to an epoch (samples per epoch / batch steps). Fills rw->sweep. */
void sweep_run(const cli_opts *o, const workload *w, report_workload *rw);

#endif
