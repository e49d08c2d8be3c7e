#include "trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sys/interrupt.h"
#include "../sys/timer.h"

int batch_order_init(batch_order *b, const workload *w, uint64_t seed) {
  b->w = w;
  rng_seed(&b->rng, seed, RNG_STREAM_BATCHES);
  b->perm = malloc((size_t)w->n_train * sizeof(int32_t));
  if (!b->perm) return -1;
  for (int i = 0; i < w->n_train; i++)
    b->perm[i] = i;
  return 0;
}

int batch_order_next(batch_order *b, int32_t *out) {
  const workload *w = b->w;
  int n = workload_epoch_len(w);
  if (w->order == WL_ORDER_FULL) {
    for (int i = 0; i < n; i++)
      out[i] = i;
  } else if (w->order == WL_ORDER_DRAW) {
    for (int i = 0; i < n; i++)
      out[i] = (int32_t)rng_below(&b->rng, (uint32_t)w->n_train);
  } else {
    rng_shuffle_i32(&b->rng, b->perm, w->n_train);
    memcpy(out, b->perm, (size_t)n * sizeof(int32_t));
  }
  return n;
}

void batch_order_free(batch_order *b) {
  free(b->perm);
  b->perm = NULL;
}

/* The buffers, the seeded weights and the resident set on the live backend t->h. */
static int trainer_setup(trainer *t, const workload *w, uint64_t seed) {
  const mlp_backend *be = t->h.be;
  const mlp_spec *s = &w->spec;
  t->w = w;
  t->seed = seed;
  t->label = be->name;
  float *init = malloc(mlp_param_count(s) * sizeof(float));
  t->xb = malloc((size_t)w->batch * s->n_in * sizeof(float));
  t->yb = malloc((size_t)w->batch * sizeof(int32_t));
  t->tb = malloc((size_t)w->batch * s->n_out * sizeof(float));
  t->out = malloc((size_t)s->max_batch * s->n_out * sizeof(float));
  t->epoch_idx = malloc((size_t)workload_epoch_len(w) * sizeof(int32_t));
  if (!init || !t->xb || !t->yb || !t->tb || !t->out || !t->epoch_idx ||
      batch_order_init(&t->order, w, seed)) {
    snprintf(t->err, sizeof t->err, "%s: out of memory", be->name);
    goto fail;
  }
  workload_init_params(w, seed, init);
  if (be->set_params(t->h.ctx, init)) { /* a fresh start: gradients and Adam's state too */
    snprintf(t->err, sizeof t->err, "%s: set_params: %s", be->name, be_error(&t->h));
    goto fail;
  }
  if (be_offers(be, BE_RESIDENT) && t->h.dataset != w->x_train) {
    int rc = be_set_dataset(&t->h, w->x_train, w->has_accuracy ? w->y_train : NULL,
                            w->has_accuracy ? NULL : w->t_train, w->n_train);
    if (rc < 0) {
      snprintf(t->err, sizeof t->err, "%s: set_dataset: %s", be->name, be_error(&t->h));
      goto fail;
    }
    t->h.dataset = w->x_train; /* a later run on this handle needs no second upload */
    t->h.resident = rc == 0;   /* 1: declined, batches go through forward_backward */
  }
  t->resident = t->h.resident;
  free(init);
  return 0;
fail:
  free(init);
  return -1;
}

int trainer_open(trainer *t, const mlp_backend *be, const mlp_options *opt, const workload *w,
                 uint64_t seed) {
  memset(t, 0, sizeof *t);
  t->owns = 1;
  if (be_open(&t->h, be, &w->spec, opt, t->err, sizeof t->err) || trainer_setup(t, w, seed)) {
    trainer_close(t);
    return -1;
  }
  return 0;
}

int trainer_open_on(trainer *t, be_handle *h, const workload *w, uint64_t seed) {
  memset(t, 0, sizeof *t);
  t->h = *h;
  t->shared = h;
  if (trainer_setup(t, w, seed)) {
    trainer_close(t);
    return -1;
  }
  return 0;
}

void trainer_close(trainer *t) {
  if (t->owns)
    be_close(&t->h);
  else if (t->shared)
    *t->shared = t->h; /* what this run learnt of the handle (its resident set) stays */
  t->shared = NULL;
  t->owns = 0;
  batch_order_free(&t->order);
  free(t->epoch_idx);
  free(t->block_idx);
  free(t->xb);
  free(t->yb);
  free(t->tb);
  free(t->out);
  t->epoch_idx = t->yb = t->block_idx = NULL;
  t->block_cap = 0;
  t->xb = t->tb = t->out = NULL;
}

static int fail_backend(trainer *t, const char *what, int step) {
  snprintf(t->err, sizeof t->err, "%s: %s failed at epoch %d, step %d: %s", t->h.be->name, what,
           t->epoch + 1, step + 1, be_error(&t->h));
  return -1;
}

/* Step `s` of the epoch: its indices are epoch_idx[s * batch ...]. */
static int run_step(trainer *t, int s, int n_idx, float *loss) {
  const mlp_backend *be = t->h.be;
  const workload *w = t->w;
  const int at = s * w->batch, n = n_idx - at < w->batch ? n_idx - at : w->batch;
  mlp_batch b;
  if (w->zero_grad && be->zero_grads(t->h.ctx)) return fail_backend(t, "zero_grads", s);
  if (w->order == WL_ORDER_FULL) /* the whole training set, as it lies */
    b = (mlp_batch){.x = w->x_train,
                    .labels = w->has_accuracy ? w->y_train : NULL,
                    .y = w->has_accuracy ? NULL : w->t_train,
                    .n = w->n_train};
  else
    workload_gather(w, t->epoch_idx + at, n, t->xb, t->yb, t->tb, &b);
  if (be->forward_backward(t->h.ctx, &b, loss)) return fail_backend(t, "forward_backward", s);
  if (be->step(t->h.ctx)) return fail_backend(t, "step", s);
  return 0;
}

static void draw_progress(trainer *t, int step, int steps, double t0) {
  double el = timer_now() - t0, eta = step ? el / step * (steps - step) : 0.0;
  fprintf(stderr, "\r  %-8s epoch %d/%d  batch %d/%d  ETA %.1fs   ", t->label, t->epoch + 1,
          t->w->epochs, step, steps, eta);
}

/* k epochs through the backend's train_steps: the index list crosses over once per call.
 * Epochs that are one batch each (the toy net's full batch) go as one call, so a backend can
 * run a whole timing block in one launch; otherwise one call per epoch. */
static int resident_epochs(trainer *t, int k, double *seconds, double *loss) {
  const workload *w = t->w;
  const int len = workload_epoch_len(w), one_step = len == w->batch;
  /* a block of one-step epochs goes in calls of at most 2^20 indices: a huge --block costs
   * no more memory than that, and no count overflows */
  const int cap = len < (1 << 20) ? (1 << 20) / len : 1;
  const int per_call = one_step ? (k < cap ? k : cap) : 1, calls = (k + per_call - 1) / per_call;
  mlp_steps_out so = {0};
  double dev = 0.0;
  /* the index buffer grows before the region starts: an allocation is not the backend's time */
  if ((size_t)per_call * len > t->block_cap) {
    int32_t *b = realloc(t->block_idx, (size_t)per_call * len * sizeof(int32_t));
    if (!b) {
      snprintf(t->err, sizeof t->err, "%s: out of memory for %d epochs of indices", t->h.be->name,
               per_call);
      return -1;
    }
    t->block_idx = b;
    t->block_cap = (size_t)per_call * len;
  }
  timed_region reg;
  timed_region_begin(&reg, 1);
  for (int i = 0; i < calls; i++) {
    if (mlpb_stop_signal) {
      snprintf(t->err, sizeof t->err, "%s: interrupted by signal %d before epoch %d", t->h.be->name,
               (int)mlpb_stop_signal, t->epoch + 1);
      return -1;
    }
    const int n = i == calls - 1 ? k - i * per_call : per_call; /* epochs in this call */
    for (int e = 0; e < n; e++)
      batch_order_next(&t->order, t->block_idx + (size_t)e * len);
    if (be_train_steps(&t->h, t->block_idx, n * len, w->batch, w->zero_grad, &so)) {
      snprintf(t->err, sizeof t->err, "%s: epoch %d: %s", t->h.be->name, t->epoch + 1,
               be_error(&t->h));
      return -1;
    }
    dev = dev >= 0.0 && so.device_seconds >= 0.0 ? dev + so.device_seconds : -1.0;
    t->epoch += n;
  }
  /* train_steps may return with its work still queued: the sample ends after the sync */
  if (timed_region_end(&reg, &t->h, &t->last)) return fail_backend(t, "sync", 0);
  t->last_device = dev; /* a second figure, never the sample: the sample is wall time */
  *seconds = t->last.seconds;
  *loss = one_step ? so.last_loss : so.mean_loss; /* the last epoch's mean batch loss */
  return 0;
}

int trainer_epochs(trainer *t, int k, double *seconds, double *loss) {
  if (t->resident) return resident_epochs(t, k, seconds, loss);
  const workload *w = t->w;
  double sum = 0.0;
  int steps = 1;
  timed_region reg;
  timed_region_begin(&reg, 1);
  for (int e = 0; e < k; e++) {
    /* the toy net's epoch is its whole 3-row input: nothing to draw */
    int n = w->order == WL_ORDER_FULL ? w->n_train : batch_order_next(&t->order, t->epoch_idx);
    steps = w->order == WL_ORDER_FULL ? 1 : (n + w->batch - 1) / w->batch;
    sum = 0.0;
    double t0 = t->progress && steps > 1 ? timer_now() : 0.0, last_draw = t0;
    for (int s = 0; s < steps; s++) {
      float l = 0.0f;
      if (mlpb_stop_signal) {
        snprintf(t->err, sizeof t->err, "%s: interrupted by signal %d at epoch %d, step %d",
                 t->h.be->name, (int)mlpb_stop_signal, t->epoch + 1, s + 1);
        return -1;
      }
      if (run_step(t, s, n, &l)) return -1;
      if (!isfinite(l)) {
        snprintf(t->err, sizeof t->err,
                 "%s: training diverged: loss is %s at epoch %d, step %d (learning rate %g too "
                 "high, or bad input data)",
                 t->h.be->name, isnan(l) ? "NaN" : "infinite", t->epoch + 1, s + 1, w->spec.lr);
        return -1;
      }
      sum += l;
      if (t->progress && steps > 1 && timer_now() - last_draw > 0.25) {
        double d0 = timer_now(); /* the progress line is not the backend's time */
        draw_progress(t, s + 1, steps, t0);
        last_draw = timer_now();
        timed_region_exclude(&reg, last_draw - d0);
      }
    }
    t->epoch++;
  }
  if (timed_region_end(&reg, &t->h, &t->last)) return fail_backend(t, "sync", 0);
  t->last_device = -1.0;
  if (t->progress && steps > 1) fprintf(stderr, "\r%72s\r", "");
  *seconds = t->last.seconds;
  *loss = sum / steps;
  return 0;
}

int trainer_argmax(const float *p, int n) {
  int best = 0;
  for (int k = 1; k < n; k++)
    if (p[k] > p[best]) best = k;
  return best;
}

/* A NaN or infinite output has no argmax: an accuracy or a prediction counted from it would
 * look plausible (a NaN compares false, so class 0 wins) and hide a broken forward. */
static int nonfinite_output(trainer *t, const float *p, int n_out, int sample) {
  for (int k = 0; k < n_out; k++)
    if (!isfinite(p[k])) {
      snprintf(t->err, sizeof t->err,
               "%s: forward returned %s for sample %d (output %d): no accuracy or prediction "
               "can be counted from it",
               t->h.be->name, isnan(p[k]) ? "NaN" : "an infinite value", sample, k);
      return -1;
    }
  return 0;
}

int trainer_predict(trainer *t, const float *x, int n, float *out) {
  const int mb = t->w->spec.max_batch, no = t->w->spec.n_out, ni = t->w->spec.n_in;
  for (int at = 0; at < n; at += mb) {
    int b = n - at < mb ? n - at : mb;
    if (t->h.be->forward(t->h.ctx, x + (size_t)at * ni, b, out + (size_t)at * no))
      return fail_backend(t, "forward", 0);
    for (int i = 0; i < b; i++)
      if (nonfinite_output(t, out + (size_t)(at + i) * no, no, at + i)) return -1;
  }
  return 0;
}

int trainer_accuracy(trainer *t, const float *x, const int32_t *y, int n, double *acc) {
  const int mb = t->w->spec.max_batch, no = t->w->spec.n_out, ni = t->w->spec.n_in;
  long correct = 0;
  *acc = NAN;
  if (n == 0) return 0;
  for (int at = 0; at < n; at += mb) {
    int b = n - at < mb ? n - at : mb;
    if (t->h.be->forward(t->h.ctx, x + (size_t)at * ni, b, t->out))
      return fail_backend(t, "forward", 0);
    for (int i = 0; i < b; i++) {
      const float *p = t->out + (size_t)i * no;
      if (nonfinite_output(t, p, no, at + i)) return -1;
      correct += trainer_argmax(p, no) == y[at + i];
    }
  }
  *acc = (double)correct / n;
  return 0;
}
