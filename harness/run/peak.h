/* peak.h: the machine's own FP32 peak, once per run, so that each CPU row shows three numbers:
 * its rate, its library's limit (the GEMM floor) and the machine's (this peak). */
#ifndef MLPB_PEAK_H
#define MLPB_PEAK_H

#include "../output/report.h"
#include "plan.h"

#define PEAK_BUDGET_S 0.3 /* seconds the measurement may take, roughly */

/* ctx->peak_gflops and peak_by from the first available host backend (the plan's first, then
 * any built) with a peak_gflops slot; left NaN when there is none or it fails. Also when
 * (peak_at) and what else the machine did meanwhile (peak_disturbed). A plan that carries its
 * parent's peak (a --processes child) takes that one instead of measuring. */
void peak_measure(const run_plan *p, report_context *ctx);
/* r->peak_fraction for a host backend's row that ran: its GFLOP/s over the peak. */
void peak_fraction_set(const mlp_backend *be, const report_context *ctx, report_row *r);

#endif
