/* workload.h: the tutorial's two training jobs, as a model spec plus float data.
 *   toy:   4-3-1 sigmoid net on its 3x4 input, full-batch gradient step, lr 0.1, 5000 epochs
 *   mnist: 784-500-10 ReLU, softmax cross-entropy, Adam lr 1e-3, batch 128, 5 epochs,
 *          first 70% of the training file trains, last 30% validates */
#ifndef MLPB_WORKLOAD_H
#define MLPB_WORKLOAD_H

#include <stdint.h>

#include "../harness/data/dataset.h"
#include "../impls/mlp_backend.h"

typedef enum { WL_TOY = 0, WL_MNIST = 1 } wl_kind;
typedef enum { WL_SAMPLE_SHUFFLE = 0, WL_SAMPLE_TUTORIAL = 1 } wl_sampling;

/* Overrides from the command line; 0 keeps the workload's default, and so does an lr whose
 * lr_set is 0 (an explicit state: no value of lr means "unset"). */
typedef struct {
  int epochs, batch, hidden, limit;
  float lr;
  int lr_set;
  wl_sampling sampling;
  int no_zero_grad;
} wl_config;

typedef struct {
  wl_kind kind;
  const char *name;
  mlp_spec spec;
  int epochs, batch;
  wl_sampling sampling;
  int zero_grad;
  int batches_per_epoch; /* steps in one epoch */
  int n_train, n_val, n_test;
  float *x_train, *x_val, *x_test; /* (n, n_in), pixels in [0, 1] */
  int32_t *y_train, *y_val, *y_test;
  float *t_train; /* toy targets (n_train, 1) */
} workload;

int workload_toy(workload *w, const wl_config *cfg, char *err, size_t len);
int workload_mnist(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len);
void workload_free(workload *w);

/* The seeded initial weights every backend starts from (flat layout). */
void workload_init_params(const workload *w, uint64_t seed, float *flat);

/* GEMM FLOPs of one training step on B samples: 4*n_in*H + 6*H*n_out per sample. */
double workload_step_flops(const mlp_spec *s, int B);

#endif
