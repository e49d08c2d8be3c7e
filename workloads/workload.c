/* workload.c: what every workload shares: the registry, initial weights, FLOPs, batches. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "workload.h"

/* what the classifiers take: everything but the toy net's timing block */
#define CLASSIFIER_TAKES                                                                           \
  (WL_TAKES_EPOCHS | WL_TAKES_BATCH | WL_TAKES_HIDDEN | WL_TAKES_LIMIT | WL_TAKES_LR |             \
   WL_TAKES_SAMPLING | WL_TAKES_ZERO_GRAD | WL_TAKES_DATA)

/* The toy net has no data set and one full batch, so --data, --limit, --batch, --sampling and
 * --no-zero-grad mean nothing to it: named, it refuses them. Under --workload all they are the
 * classifier's, and it runs as the tutorial wrote it: an --epochs, --hidden or --lr sized for
 * the classifier is not applied to it (the command says so). --block, a timing option for
 * sub-microsecond epochs, is the toy's alone: a classifier refuses it when named. */
#define TOY_LACKS                                                                                  \
  (WL_TAKES_DATA | WL_TAKES_LIMIT | WL_TAKES_BATCH | WL_TAKES_SAMPLING | WL_TAKES_ZERO_GRAD)
static const wl_entry entries[] = {
    {"mnist", "784-500-10 ReLU classifier, Adam (the tutorial's)", 1, 1, &wl_mnist_defaults,
     CLASSIFIER_TAKES, CLASSIFIER_TAKES | WL_TAKES_BLOCK, workload_mnist},
    {"toy", "4-3-1 sigmoid net on its 3x4 input, full-batch SGD (the tutorial's)", 0, 1,
     &wl_toy_defaults, WL_TAKES_EPOCHS | WL_TAKES_HIDDEN | WL_TAKES_LR | WL_TAKES_BLOCK,
     WL_TAKES_BLOCK | TOY_LACKS, workload_toy},
    {"wide", "784-2048-10: the classifier with 4x the GEMM work per step", 1, 0, &wl_wide_defaults,
     CLASSIFIER_TAKES, CLASSIFIER_TAKES | WL_TAKES_BLOCK, workload_wide},
};

int workload_count(void) {
  return (int)(sizeof entries / sizeof entries[0]);
}

const wl_entry *workload_get(int i) {
  return &entries[i];
}

const wl_entry *workload_find(const char *name) {
  for (int i = 0; i < workload_count(); i++)
    if (strcmp(entries[i].name, name) == 0) return &entries[i];
  return NULL;
}

void workload_free(workload *w) {
  free(w->x_train);
  free(w->x_val);
  free(w->x_test);
  free(w->y_train);
  free(w->y_val);
  free(w->y_test);
  free(w->t_train);
  memset(w, 0, sizeof *w);
}

void workload_init_params(const workload *w, uint64_t seed, float *flat) {
  const mlp_spec *s = &w->spec;
  size_t off[4], n = mlp_param_count(s);
  rng_t r;
  mlp_param_offsets(s, off);
  rng_seed(&r, seed, RNG_STREAM_INIT);
  if (w->init_unit) {
    for (size_t i = 0; i < n; i++)
      flat[i] = rng_uniform(&r);
    return;
  }
  float k1 = 1.0f / sqrtf((float)s->n_in), k2 = 1.0f / sqrtf((float)s->n_hidden);
  for (size_t i = 0; i < n; i++) {
    float k = i < off[2] ? k1 : k2;
    flat[i] = (2.0f * rng_uniform(&r) - 1.0f) * k;
  }
}

double workload_step_flops(const mlp_spec *s, int B) {
  return (double)B * (4.0 * s->n_in * s->n_hidden + 6.0 * (double)s->n_hidden * s->n_out);
}

int workload_epoch_len(const workload *w) {
  return w->order == WL_ORDER_DRAW ? w->batches_per_epoch * w->batch : w->n_train;
}

void workload_gather(const workload *w, const int32_t *idx, int n, float *xb, int32_t *yb,
                     float *tb, mlp_batch *b) {
  const int n_in = w->spec.n_in, n_out = w->spec.n_out;
  enum { AHEAD = 4 }; /* rows are drawn at random from a set far larger than the caches */
  for (int i = 0; i < n; i++) {
    if (i + AHEAD < n) {
      const char *r = (const char *)(w->x_train + (size_t)idx[i + AHEAD] * n_in);
      for (size_t off = 0; off < (size_t)n_in * sizeof(float); off += 64)
        __builtin_prefetch(r + off);
    }
    memcpy(xb + (size_t)i * n_in, w->x_train + (size_t)idx[i] * n_in, (size_t)n_in * sizeof(float));
    if (w->has_accuracy)
      yb[i] = w->y_train[idx[i]];
    else
      memcpy(tb + (size_t)i * n_out, w->t_train + (size_t)idx[i] * n_out,
             (size_t)n_out * sizeof(float));
  }
  *b = (mlp_batch){
      .x = xb, .labels = w->has_accuracy ? yb : NULL, .y = w->has_accuracy ? NULL : tb, .n = n};
}
