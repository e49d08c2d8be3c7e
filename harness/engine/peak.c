#include "peak.h"

#include <math.h>
#include <stdio.h>

#include "be_handle.h"
#include "registry.h"

static int peak_from(const mlp_backend *be, const run_plan *p, report_context *ctx) {
  char why[256], desc[64], err[256];
  double g;
  if (!be->peak_gflops || be_props(be)->device || !be->available(why, sizeof why)) return 0;
  if (be->peak_gflops(&p->opts, PEAK_BUDGET_S, &g, desc, sizeof desc, err, sizeof err) ||
      !isfinite(g) || g <= 0) {
    fprintf(stderr, "mlpbench bench: no machine peak from %s: %s\n", be->name, err);
    return -1;
  }
  ctx->peak_gflops = g;
  snprintf(ctx->peak_by, sizeof ctx->peak_by, "%s: %s", be->name, desc);
  return 1;
}

void peak_measure(const run_plan *p, report_context *ctx) {
  ctx->peak_gflops = NAN;
  ctx->peak_by[0] = '\0';
  for (int i = 0; i < p->n_backends; i++)
    if (peak_from(p->backends[i], p, ctx)) return;
  /* a run of naive alone still gets the machine's figure, from a library that is built */
  for (int i = 0; i < registry_count(); i++)
    if (peak_from(registry_get(i), p, ctx)) return;
}

void peak_fraction_set(const mlp_backend *be, const report_context *ctx, report_row *r) {
  r->peak_fraction = !be_props(be)->device && isfinite(ctx->peak_gflops) && r->ran
                         ? r->gflops / ctx->peak_gflops
                         : NAN;
}
