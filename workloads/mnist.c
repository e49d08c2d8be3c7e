/* mnist.c: the tutorial's digit classifier on any MNIST-shaped data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/rng.h"
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

int workload_mnist(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err,
                   size_t len) {
  memset(w, 0, sizeof *w);
  int n_all = cfg->limit > 0 && cfg->limit < d->n_train ? cfg->limit : d->n_train;
  int n_in = d->rows * d->cols;
  w->kind = WL_MNIST;
  w->name = "mnist";
  w->batch = cfg->batch > 0 ? cfg->batch : 128;
  w->spec = (mlp_spec){.n_in = n_in,
                       .n_hidden = cfg->hidden > 0 ? cfg->hidden : 500,
                       .n_out = MLPB_N_CLASSES,
                       .act = MLP_ACT_RELU,
                       .loss = MLP_LOSS_SOFTMAX_CE,
                       .opt = MLP_OPT_ADAM,
                       .lr = cfg->lr_set ? cfg->lr : 1e-3f,
                       .beta1 = 0.9f,
                       .beta2 = 0.999f,
                       .eps = 1e-8f,
                       .max_batch = w->batch};
  w->epochs = cfg->epochs > 0 ? cfg->epochs : 5;
  w->sampling = cfg->sampling;
  w->zero_grad = !cfg->no_zero_grad;
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
  /* tutorial: int(N/128) batches drawn with replacement, N the whole training file */
  w->batches_per_epoch =
      w->sampling == WL_SAMPLE_TUTORIAL ? n_all / w->batch : (w->n_train + w->batch - 1) / w->batch;
  size_t px = (size_t)n_in;
  if (to_float(d->train_x, d->train_y, w->n_train, n_in, &w->x_train, &w->y_train) ||
      to_float(d->train_x + w->n_train * px, d->train_y + w->n_train, w->n_val, n_in, &w->x_val,
               &w->y_val) ||
      (d->n_test && to_float(d->test_x, d->test_y, d->n_test, n_in, &w->x_test, &w->y_test))) {
    snprintf(err, len, "%s: out of memory converting %d images to float", d->name, n_all);
    workload_free(w);
    return -1;
  }
  w->n_test = d->n_test;
  return 0;
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
  if (w->kind == WL_TOY) { /* numpy.random.uniform: [0, 1) for weights and biases */
    for (size_t i = 0; i < n; i++)
      flat[i] = rng_uniform(&r);
    return;
  }
  /* nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias */
  float k1 = 1.0f / sqrtf((float)s->n_in), k2 = 1.0f / sqrtf((float)s->n_hidden);
  for (size_t i = 0; i < n; i++) {
    float k = i < off[2] ? k1 : k2;
    flat[i] = (2.0f * rng_uniform(&r) - 1.0f) * k;
  }
}

double workload_step_flops(const mlp_spec *s, int B) {
  return (double)B * (4.0 * s->n_in * s->n_hidden + 6.0 * (double)s->n_hidden * s->n_out);
}
