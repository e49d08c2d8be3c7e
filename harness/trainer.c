#include "trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timer.h"

int trainer_open(trainer *t, const mlp_backend *be, const mlp_options *opt, const workload *w,
                 uint64_t seed) {
  memset(t, 0, sizeof *t);
  t->be = be;
  t->w = w;
  t->seed = seed;
  t->label = be->name;
  rng_seed(&t->batch_rng, seed, RNG_STREAM_BATCHES);
  const mlp_spec *s = &w->spec;
  float *init = malloc(mlp_param_count(s) * sizeof(float));
  t->order = malloc((size_t)w->n_train * sizeof(int32_t));
  t->idx = malloc((size_t)w->batch * sizeof(int32_t));
  t->xb = malloc((size_t)w->batch * s->n_in * sizeof(float));
  t->yb = malloc((size_t)w->batch * sizeof(int32_t));
  t->out = malloc((size_t)s->max_batch * s->n_out * sizeof(float));
  size_t n_epoch = (size_t)w->batches_per_epoch * w->batch;
  n_epoch = n_epoch > (size_t)w->n_train ? n_epoch : (size_t)w->n_train;
  t->epoch_idx = malloc(n_epoch * sizeof(int32_t));
  if (!init || !t->order || !t->idx || !t->xb || !t->yb || !t->out || !t->epoch_idx) {
    snprintf(t->err, sizeof t->err, "%s: out of memory", be->name);
    goto fail;
  }
  for (int i = 0; i < w->n_train; i++)
    t->order[i] = i;
  char why[256] = "";
  t->ctx = be->create(s, opt, why, sizeof why);
  if (!t->ctx) {
    snprintf(t->err, sizeof t->err, "%s: %s", be->name, why);
    goto fail;
  }
  workload_init_params(w, seed, init);
  if (be->set_params(t->ctx, init)) {
    snprintf(t->err, sizeof t->err, "%s: set_params: %s", be->name, be->error(t->ctx));
    goto fail;
  }
  if (be->set_dataset && be->train_steps && w->kind == WL_MNIST) {
    if (be->set_dataset(t->ctx, w->x_train, w->y_train, w->n_train)) {
      snprintf(t->err, sizeof t->err, "%s: set_dataset: %s", be->name, be->error(t->ctx));
      goto fail;
    }
    t->resident = 1;
  }
  free(init);
  return 0;
fail:
  free(init);
  trainer_close(t);
  return -1;
}

void trainer_close(trainer *t) {
  if (t->ctx) t->be->destroy(t->ctx);
  free(t->order);
  free(t->idx);
  free(t->xb);
  free(t->yb);
  free(t->out);
  free(t->epoch_idx);
  t->epoch_idx = NULL;
  t->ctx = NULL;
  t->order = t->idx = t->yb = NULL;
  t->xb = t->out = NULL;
}

/* Picks batch `step` of the epoch into t->idx; returns its size. */
static int next_batch(trainer *t, int step) {
  const workload *w = t->w;
  if (w->sampling == WL_SAMPLE_TUTORIAL) {
    for (int i = 0; i < w->batch; i++)
      t->idx[i] = (int32_t)rng_below(&t->batch_rng, w->n_train);
    return w->batch;
  }
  int at = step * w->batch, n = w->n_train - at < w->batch ? w->n_train - at : w->batch;
  memcpy(t->idx, t->order + at, (size_t)n * sizeof(int32_t));
  return n;
}

static int fail_backend(trainer *t, const char *what) {
  snprintf(t->err, sizeof t->err, "%s: %s failed at epoch %d: %s", t->be->name, what, t->epoch + 1,
           t->be->error(t->ctx));
  return -1;
}

static int run_step(trainer *t, int step, float *loss) {
  const mlp_backend *be = t->be;
  const workload *w = t->w;
  if (w->zero_grad && be->zero_grads(t->ctx)) return fail_backend(t, "zero_grads");
  if (w->kind == WL_TOY) {
    mlp_batch b = {.x = w->x_train, .y = w->t_train, .n = w->n_train};
    if (be->forward_backward(t->ctx, &b, loss)) return fail_backend(t, "forward_backward");
  } else {
    int n = next_batch(t, step);
    const int n_in = w->spec.n_in;
    for (int i = 0; i < n; i++) {
      memcpy(t->xb + (size_t)i * n_in, w->x_train + (size_t)t->idx[i] * n_in,
             (size_t)n_in * sizeof(float));
      t->yb[i] = w->y_train[t->idx[i]];
    }
    mlp_batch b = {.x = t->xb, .labels = t->yb, .n = n};
    if (be->forward_backward(t->ctx, &b, loss)) return fail_backend(t, "forward_backward");
  }
  if (be->step(t->ctx)) return fail_backend(t, "step");
  return 0;
}

static void draw_progress(trainer *t, int step, int steps, double t0) {
  double el = timer_now() - t0, eta = step ? el / step * (steps - step) : 0.0;
  fprintf(stderr, "\r  %-8s epoch %d/%d  batch %d/%d  ETA %.1fs   ", t->label, t->epoch + 1,
          t->w->epochs, step, steps, eta);
}

/* One epoch through the backend's train_steps: every index of the epoch goes over once. */
static int resident_epoch(trainer *t, double *seconds, double *loss) {
  const workload *w = t->w;
  int n;
  if (w->sampling == WL_SAMPLE_TUTORIAL) {
    n = w->batches_per_epoch * w->batch;
    for (int i = 0; i < n; i++)
      t->epoch_idx[i] = (int32_t)rng_below(&t->batch_rng, w->n_train);
  } else {
    rng_shuffle_i32(&t->batch_rng, t->order, w->n_train);
    n = w->n_train;
    memcpy(t->epoch_idx, t->order, (size_t)n * sizeof(int32_t));
  }
  float l = 0.0f;
  double dev = -1.0, t0 = timer_now();
  if (t->be->train_steps(t->ctx, t->epoch_idx, n, w->batch, w->zero_grad, &l, &dev)) {
    snprintf(t->err, sizeof t->err, "%s: epoch %d: %s", t->be->name, t->epoch + 1,
             t->be->error(t->ctx));
    return -1;
  }
  double host = timer_now() - t0;
  t->epoch++;
  *seconds = dev >= 0.0 ? dev : host;
  *loss = l;
  return 0;
}

int trainer_epochs(trainer *t, int k, double *seconds, double *loss) {
  if (t->resident && k == 1) return resident_epoch(t, seconds, loss);
  const workload *w = t->w;
  const int steps = w->batches_per_epoch;
  double sum = 0.0, start = timer_now();
  for (int e = 0; e < k; e++) {
    if (w->kind == WL_MNIST && w->sampling == WL_SAMPLE_SHUFFLE)
      rng_shuffle_i32(&t->batch_rng, t->order, w->n_train);
    sum = 0.0;
    double t0 = t->progress && steps > 1 ? timer_now() : 0.0, last_draw = t0;
    for (int s = 0; s < steps; s++) {
      float l = 0.0f;
      if (run_step(t, s, &l)) return -1;
      if (!isfinite(l)) {
        snprintf(t->err, sizeof t->err,
                 "%s: training diverged: loss is %s at epoch %d, step %d (learning rate %g too "
                 "high, or bad input data)",
                 t->be->name, isnan(l) ? "NaN" : "infinite", t->epoch + 1, s + 1, w->spec.lr);
        return -1;
      }
      sum += l;
      if (t->progress && steps > 1 && timer_now() - last_draw > 0.25) {
        draw_progress(t, s + 1, steps, t0);
        last_draw = timer_now();
      }
    }
    t->epoch++;
  }
  if (t->be->sync && t->be->sync(t->ctx)) return fail_backend(t, "sync");
  double total = timer_now() - start;
  if (t->progress && steps > 1) fprintf(stderr, "\r%72s\r", "");
  *seconds = total;
  *loss = sum / steps;
  return 0;
}

int trainer_predict(trainer *t, const float *x, int n, float *out) {
  const int mb = t->w->spec.max_batch, no = t->w->spec.n_out, ni = t->w->spec.n_in;
  for (int at = 0; at < n; at += mb) {
    int b = n - at < mb ? n - at : mb;
    if (t->be->forward(t->ctx, x + (size_t)at * ni, b, out + (size_t)at * no))
      return fail_backend(t, "forward");
  }
  return 0;
}

int trainer_accuracy(trainer *t, const float *x, const int32_t *y, int n, double *acc) {
  const int mb = t->w->spec.max_batch, no = t->w->spec.n_out, ni = t->w->spec.n_in;
  long correct = 0;
  *acc = -1.0;
  if (n == 0) return 0;
  for (int at = 0; at < n; at += mb) {
    int b = n - at < mb ? n - at : mb;
    if (t->be->forward(t->ctx, x + (size_t)at * ni, b, t->out)) return fail_backend(t, "forward");
    for (int i = 0; i < b; i++) {
      const float *p = t->out + (size_t)i * no;
      int best = 0;
      for (int k = 1; k < no; k++)
        if (p[k] > p[best]) best = k;
      correct += best == y[at + i];
    }
  }
  *acc = (double)correct / n;
  return 0;
}
