/* wl_describe.h: a live workload as reports name it: its identity (what compare and history
 * match on, and what a peer is sent and must echo) and the rest of its report header. */
#ifndef MLPB_WL_DESCRIBE_H
#define MLPB_WL_DESCRIBE_H

#include "../../workloads/workload.h"
#include "../output/report.h"
#include "../output/wl_identity.h"
#include "plan.h"

void wl_describe_identity(const workload *w, wl_identity *id);
/* rw's header (identity, data, sizes, schedule), its rows left as they are. */
void wl_describe(const run_plan *p, const workload *w, report_workload *rw);

#endif
