/* mnist.c: the tutorial's digit classifier on any MNIST-shaped data set, and its wide
 * variant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static int to_float(const uint8_t *px, const uint8_t *lab, int n, int n_in, float **x,
                    int32_t **y) {
  *x = malloc((size_t)n * n_in * sizeof(float) + 1);
  *y = malloc((size_t)n * sizeof(int32_t) + 1);
  if (!*x || !*y) return -1;
  for (size_t i = 0; i < (size_t)n * n_in; i++)
    (*x)[i] = px[i] / 255.0f;
  for (int i = 0; i < n; i++)
    (*y)[i] = lab[i];
  return 0;
}

/* The tutorial's classifier: batch 128, 5 epochs of Adam at 1e-3 (the one place each is
 * written: --help and list read them from the registry). */
#define TUTORIAL_CLASSIFIER .epochs = 5, .batch = 128, .lr = 1e-3f
const wl_config wl_mnist_defaults = {TUTORIAL_CLASSIFIER, .hidden = 500};
const wl_config wl_wide_defaults = {TUTORIAL_CLASSIFIER, .hidden = 2048};

static int classifier(workload *w, const char *name, const wl_config *dflt, const mlpb_dataset *d,
                      const wl_config *cfg, char *err, size_t len) {
  memset(w, 0, sizeof *w);
  int n_all = cfg->limit > 0 && cfg->limit < d->n_train ? cfg->limit : d->n_train;
  int n_in = d->rows * d->cols;
  w->name = name;
  w->batch = cfg->batch > 0 ? cfg->batch : dflt->batch;
  w->spec = (mlp_spec){.n_in = n_in,
                       .n_hidden = cfg->hidden > 0 ? cfg->hidden : dflt->hidden,
                       .n_out = MLPB_N_CLASSES,
                       .act = MLP_ACT_RELU,
                       .loss = MLP_LOSS_SOFTMAX_CE,
                       .opt = MLP_OPT_ADAM,
                       .lr = cfg->lr_set ? cfg->lr : dflt->lr,
                       .beta1 = 0.9f,
                       .beta2 = 0.999f,
                       .eps = 1e-8f,
                       .max_batch = w->batch};
  w->epochs = cfg->epochs > 0 ? cfg->epochs : dflt->epochs;
  w->order = cfg->sampling == WL_SAMPLE_TUTORIAL ? WL_ORDER_DRAW : WL_ORDER_SHUFFLE;
  w->sampling_label = cfg->sampling == WL_SAMPLE_TUTORIAL ? "tutorial sampling" : "shuffled epochs";
  w->zero_grad = !cfg->no_zero_grad;
  w->has_accuracy = 1;
  w->default_repeat = 1;
  w->default_block = 0;
  w->montage_side = d->rows == 28 && d->cols == 28 ? 28 : 0;
  snprintf(w->data_label, sizeof w->data_label, "%s", d->name);
  snprintf(w->data_title, sizeof w->data_title, "%s", d->name);
  snprintf(w->data_source, sizeof w->data_source, "%s", d->source);
  w->data_hash = d->hash;
  w->n_train = (int)((long)n_all * 7 / 10);
  w->n_val = n_all - w->n_train;
  if (w->n_train < 1 || w->n_val < 1) {
    snprintf(err, len, "%s: %d samples are too few for a 70:30 split", d->name, n_all);
    return -1;
  }
  double per_buf = (double)w->batch * (w->spec.n_hidden > n_in ? w->spec.n_hidden : n_in);
  if ((double)mlp_param_count(&w->spec) > 1e9 || per_buf > 1e9) {
    snprintf(err, len, "model %d-%d-%d with batch %d is too large (over 1e9 floats in one buffer)",
             n_in, w->spec.n_hidden, w->spec.n_out, w->batch);
    return -1;
  }
  if (w->batch > w->n_train) {
    snprintf(err, len, "batch %d is larger than the %d training samples of %s", w->batch,
             w->n_train, d->name);
    return -1;
  }
  /* tutorial: int(N/batch) batches drawn with replacement, N the whole training file */
  w->batches_per_epoch =
      w->order == WL_ORDER_DRAW ? n_all / w->batch : (w->n_train + w->batch - 1) / w->batch;
  w->samples_per_epoch =
      w->order == WL_ORDER_DRAW ? (double)w->batches_per_epoch * w->batch : w->n_train;
  w->gflop_per_epoch = workload_step_flops(&w->spec, 1) * w->samples_per_epoch / 1e9;
  size_t px = (size_t)n_in;
  if (to_float(d->train_x, d->train_y, w->n_train, n_in, &w->x_train, &w->y_train) ||
      to_float(d->train_x + w->n_train * px, d->train_y + w->n_train, w->n_val, n_in, &w->x_val,
               &w->y_val) ||
      (d->n_test && to_float(d->test_x, d->test_y, d->n_test, n_in, &w->x_test, &w->y_test))) {
    snprintf(err, len, "%s: out of memory converting %d images to float", d->name, n_all);
    workload_free(w);
    return MLPB_ERR_NOMEM;
  }
  w->n_test = d->n_test;
  return 0;
}

int workload_mnist(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err,
                   size_t len) {
  return classifier(w, "mnist", &wl_mnist_defaults, d, cfg, err, len);
}

int workload_wide(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len) {
  return classifier(w, "wide", &wl_wide_defaults, d, cfg, err, len);
}
