#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be_handle.h"
#include "interrupt.h"
#include "stats.h"
#include "timer.h"

#define SWEEP_MAX_STEPS 50
#define SWEEP_MIN_SECONDS 0.1

/* Median seconds of one training step (zero_grads, forward_backward, step, sync). */
static double time_step(const mlp_backend *be, const mlp_options *opt, const workload *w,
                        const mlp_spec *spec, const mlp_batch *b) {
  double med = -1.0, steps[SWEEP_MAX_STEPS];
  char err[256];
  workload tmp = *w;
  tmp.spec = *spec;
  be_handle h = {0};
  float *p = malloc(mlp_param_count(spec) * sizeof(float));
  if (!p || be_open(&h, be, spec, opt, err, sizeof err)) goto done;
  workload_init_params(&tmp, 1, p);
  if (be->set_params(h.ctx, p)) goto done;
  int n = 0;
  double start = timer_now();
  for (int i = -2; n < SWEEP_MAX_STEPS; i++) { /* two untimed warm-up steps */
    double t0 = timer_now();
    if (be->zero_grads(h.ctx) || be->forward_backward(h.ctx, b, NULL) || be->step(h.ctx) ||
        be_sync(&h))
      goto done;
    if (i >= 0) steps[n++] = timer_now() - t0;
    if (n >= 3 && timer_now() - start > SWEEP_MIN_SECONDS) break;
  }
  med = stats_summarize(steps, n).median;
done:
  be_close(&h);
  free(p);
  return med;
}

void sweep_run(const mlp_backend *const *bes, int nb, const mlp_options *opt, int quiet,
               const workload *w, report_workload *rw) {
  static const int batches[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  static const int hiddens[] = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  const int n_b = (int)(sizeof batches / sizeof batches[0]);
  const int n_h = (int)(sizeof hiddens / sizeof hiddens[0]);
  const int max_b = 1024 < w->n_train ? 1024 : w->n_train;
  if (w->order == WL_ORDER_FULL) return;
  float *x = malloc((size_t)max_b * w->spec.n_in * sizeof(float));
  float *t = malloc((size_t)max_b * w->spec.n_out * sizeof(float));
  int32_t *y = malloc((size_t)max_b * sizeof(int32_t)), *idx = malloc((size_t)max_b * sizeof *idx);
  rw->sweep = calloc((size_t)nb * (n_b + n_h), sizeof *rw->sweep);
  if (!x || !t || !y || !idx || !rw->sweep) goto done;
  for (int i = 0; i < max_b; i++)
    idx[i] = i;
  mlp_batch all;
  workload_gather(w, idx, max_b, x, y, t, &all);
  for (int r = 0; r < nb && r < rw->n_rows; r++) {
    const mlp_backend *be = bes[r];
    if (!rw->rows[r].ran || !rw->rows[r].gc.pass) continue;
    for (int k = 0; k < n_b + n_h && !mlpb_stop_signal; k++) {
      mlp_spec s = w->spec;
      int is_batch = k < n_b, v = is_batch ? batches[k] : hiddens[k - n_b];
      if (is_batch && v > max_b) continue;
      s.max_batch = is_batch ? v : w->batch;
      if (!is_batch) s.n_hidden = v;
      mlp_batch b = all;
      b.n = s.max_batch;
      if (!quiet)
        fprintf(stderr, "\r  sweep %-6s %-6s %5d   ", be->name, is_batch ? "batch" : "hidden", v);
      double step = time_step(be, opt, w, &s, &b);
      if (step < 0) continue;
      report_sweep *p = &rw->sweep[rw->n_sweep++];
      snprintf(p->param, sizeof p->param, "%s", is_batch ? "batch" : "hidden");
      snprintf(p->backend, sizeof p->backend, "%s", be->name);
      p->value = v;
      p->seconds = step * rw->samples_per_epoch / s.max_batch;
    }
  }
  if (!quiet) fprintf(stderr, "\r%40s\r", "");
done:
  free(x);
  free(t);
  free(y);
  free(idx);
}
