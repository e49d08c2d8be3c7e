#include "peak.h"

#include <math.h>
#include <stdio.h>

#include "../backends/be_handle.h"
#include "../backends/registry.h"
#include "../sys/machine_load.h"
#include "disturbed.h"

static int peak_from(const mlp_backend *be, const run_plan *p, report_context *ctx) {
  char why[256], desc[64], err[256];
  double g;
  if (!be_offers(be, BE_PEAK_GFLOPS) || be_props(be)->device || !be_available(be, why, sizeof why))
    return 0;
  if (be_peak_gflops(be, &p->opts, PEAK_BUDGET_S, &g, desc, sizeof desc, err, sizeof err) ||
      !isfinite(g) || g <= 0) {
    fprintf(stderr, "mlpbench bench: no machine peak from %s: %s\n", be->name, err);
    return -1;
  }
  ctx->peak_gflops = g;
  snprintf(ctx->peak_by, sizeof ctx->peak_by, "%s: %s", be->name, desc);
  return 1;
}

static int peak_find(const run_plan *p, report_context *ctx) {
  for (int i = 0; i < p->n_backends; i++)
    if (peak_from(p->backends[i], p, ctx)) return 1;
  /* a run of naive alone still gets the machine's figure, from a library that is built */
  for (int i = 0; i < registry_count(); i++)
    if (peak_from(registry_get(i), p, ctx)) return 1;
  return 0;
}

void peak_measure(const run_plan *p, report_context *ctx) {
  ctx->peak_gflops = NAN;
  ctx->peak_by[0] = ctx->peak_at[0] = ctx->peak_disturbed[0] = '\0';
  if (p->peak.given) { /* a --processes child: its parent's, so every process divides alike */
    ctx->peak_gflops = p->peak.gflops;
    snprintf(ctx->peak_by, sizeof ctx->peak_by, "%s", p->peak.by ? p->peak.by : "");
    snprintf(ctx->peak_at, sizeof ctx->peak_at, "%s", p->peak.at ? p->peak.at : "");
    snprintf(ctx->peak_disturbed, sizeof ctx->peak_disturbed, "%s",
             p->peak.disturbed ? p->peak.disturbed : "");
    return;
  }
  load_snap a, b;
  load_delta d;
  report_time_now(ctx->peak_at, sizeof ctx->peak_at);
  load_snap_take(&a);
  int found = peak_find(p, ctx);
  load_snap_take(&b);
  if (!found) {
    ctx->peak_at[0] = '\0';
    return;
  }
  load_delta_of(&a, &b, &d);
  disturbed_window(&d, ctx->peak_disturbed, sizeof ctx->peak_disturbed);
}

void peak_fraction_set(const mlp_backend *be, const report_context *ctx, report_row *r) {
  r->peak_fraction = !be_props(be)->device && isfinite(ctx->peak_gflops) && r->ran
                         ? r->gflops / ctx->peak_gflops
                         : NAN;
}
