#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/rng.h"
#include "../backends/be_handle.h"
#include "../stats/stats.h"
#include "../sys/interrupt.h"
#include "timed_region.h"

#define SWEEP_RUNS 5 /* timed runs per point; the median run counts */
#define SWEEP_MIN_SECONDS                                                                          \
  0.02                     /* a run lasts at least this long, so one clock read or sync is noise */
#define SWEEP_MAX_RUN 4096 /* steps in one run, at most */

/* Scratch for a batch gathered from the training split, as the trainer gathers one: rows for
 * the largest batch any point uses, and n_idx row indices (a run of steps x batch reads
 * steps * batch of them). */
typedef struct {
  float *x, *t;
  int32_t *y;
  const int32_t *idx;
  size_t n_idx;
} sweep_batch;

/* One run of `steps` training steps of `batch` rows as bench's epochs run them, rows drawn
 * from the whole training split: through the resident path (set_dataset + train_steps: one
 * call) where the backend has it, else gather + step with a single sync at the
 * end. Per-step seconds, or < 0. */
static double run_steps(be_handle *h, int resident, const workload *w, const int32_t *idx,
                        int steps, int batch, sweep_batch *sb) {
  const mlp_backend *be = h->be;
  timed_region reg; /* the clock alone: a sweep point is a shape's cost, not a verdict */
  timed_sample ts;
  timed_region_begin(&reg, 0);
  mlp_steps_out so;
  if (resident) {
    if (be_train_steps(h, idx, steps * batch, batch, 1, &so)) return -1.0;
  } else {
    for (int i = 0; i < steps; i++) {
      mlp_batch b;
      workload_gather(w, idx + (size_t)i * batch, batch, sb->x, sb->y, sb->t, &b);
      if (be->zero_grads(h->ctx) || be->forward_backward(h->ctx, &b, NULL) || be->step(h->ctx))
        return -1.0;
    }
  }
  if (timed_region_end(&reg, h, &ts)) return -1.0;
  return ts.seconds / steps; /* one clock: wall time after the sync, for every backend */
}

/* The steady-state seconds of one training step at this size: runs of many steps between
 * two clock reads (never a sync per step, which would time launch latency on a device), the
 * run length grown until a run lasts SWEEP_MIN_SECONDS, the median of SWEEP_RUNS runs. */
static double time_step(const mlp_backend *be, const mlp_options *opt, const workload *w,
                        const mlp_spec *spec, sweep_batch *sb) {
  double med = -1.0, runs[SWEEP_RUNS];
  char err[256];
  workload tmp = *w;
  tmp.spec = *spec;
  be_handle h = {0};
  const int batch = spec->max_batch;
  float *p = malloc(mlp_param_count(spec) * sizeof(float));
  if (!p || be_open(&h, be, spec, opt, err, sizeof err)) goto done;
  workload_init_params(&tmp, 1, p);
  if (be->set_params(h.ctx, p)) goto done;
  int resident = be_set_dataset(&h, w->x_train, w->has_accuracy ? w->y_train : NULL,
                                w->has_accuracy ? NULL : w->t_train, w->n_train) == 0;
  int steps = 1;
  const int32_t *idx = sb->idx;
  double per = run_steps(&h, resident, w, idx, 2, batch, sb); /* warm-up: caches, graphs */
  /* a run reads steps * batch indices: never more than there are */
  while (per >= 0 && per * steps < SWEEP_MIN_SECONDS && steps < SWEEP_MAX_RUN &&
         (size_t)steps * 2 * batch <= sb->n_idx)
    steps *= 2;
  for (int r = 0; r < SWEEP_RUNS && per >= 0; r++)
    if ((runs[r] = per = run_steps(&h, resident, w, idx, steps, batch, sb)) < 0) goto done;
  if (per >= 0) med = stats_summarize(runs, SWEEP_RUNS).median;
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
  /* the hidden-width points run at the workload's own batch, which may exceed max_b: the
   * scratch holds the largest batch any point fills */
  const int buf_b = w->batch > max_b ? w->batch : max_b;
  const size_t n_idx = (size_t)SWEEP_MAX_RUN * 1024 > 2 * (size_t)buf_b
                           ? (size_t)SWEEP_MAX_RUN * 1024
                           : 2 * (size_t)buf_b; /* the warm-up's two steps at least */
  sweep_batch sb = {.n_idx = n_idx};
  int32_t *idx = NULL;
  if (w->order == WL_ORDER_FULL) return;
  sb.x = malloc((size_t)buf_b * w->spec.n_in * sizeof(float));
  sb.t = malloc((size_t)buf_b * w->spec.n_out * sizeof(float));
  sb.y = malloc((size_t)buf_b * sizeof(int32_t));
  sb.idx = idx = malloc(n_idx * sizeof *idx);
  rw->sweep = calloc((size_t)nb * (n_b + n_h), sizeof *rw->sweep);
  if (!sb.x || !sb.t || !sb.y || !idx || !rw->sweep) goto done;
  rng_t r;
  rng_seed(&r, 1, RNG_STREAM_BATCHES); /* rows from the whole split, as bench's batches */
  for (size_t i = 0; i < n_idx; i++)
    idx[i] = (int32_t)rng_below(&r, (uint32_t)w->n_train);
  for (int k = 0; k < nb && k < rw->n_rows; k++) {
    const mlp_backend *be = bes[k];
    if (!rw->rows[k].ran || !rw->rows[k].gc.pass) continue;
    for (int j = 0; j < n_b + n_h && !mlpb_stop_signal; j++) {
      mlp_spec s = w->spec;
      int is_batch = j < n_b, v = is_batch ? batches[j] : hiddens[j - n_b];
      if (is_batch && v > max_b) continue;
      s.max_batch = is_batch ? v : w->batch;
      if (!is_batch) s.n_hidden = v;
      if (!quiet)
        fprintf(stderr, "\r  sweep %-6s %-6s %5d   ", be->name, is_batch ? "batch" : "hidden", v);
      double step = time_step(be, opt, w, &s, &sb);
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
  free(sb.x);
  free(sb.t);
  free(sb.y);
  free(idx);
}
