/* trainer.h: drives one backend through a workload: identical initial weights and identical
 * batches in identical order for every backend with the same seed. */
#ifndef MLPB_TRAINER_H
#define MLPB_TRAINER_H

#include <stdint.h>

#include "../workloads/workload.h"
#include "rng.h"

typedef struct {
  const mlp_backend *be;
  void *ctx;
  const workload *w;
  uint64_t seed;
  rng_t batch_rng;
  int epoch;    /* epochs done */
  int progress; /* draw a progress line on stderr */
  const char *label;
  int32_t *order;     /* (n_train) shuffled indices */
  int32_t *idx;       /* (batch) indices of the current batch */
  int32_t *epoch_idx; /* every index of an epoch, for backends with train_steps */
  int resident;       /* the backend holds the training split (set_dataset) */
  float *xb;          /* xb (batch, n_in) */
  int32_t *yb;        /* yb (batch) */
  float *out;         /* out (batch, n_out) for evaluation */
  char err[512];
} trainer;

/* Creates the backend's context and loads the seeded initial weights. */
int trainer_open(trainer *t, const mlp_backend *be, const mlp_options *opt, const workload *w,
                 uint64_t seed);
void trainer_close(trainer *t);

/* Runs k epochs back to back (k > 1 only for the toy net's timing blocks); *seconds is the
 * wall time of the training steps alone, *loss the mean batch loss of the last epoch.
 * Fails (with t->err) on a backend error or a non-finite loss. */
int trainer_epochs(trainer *t, int k, double *seconds, double *loss);

/* Accuracy on (x, y); -1 when n == 0. */
int trainer_accuracy(trainer *t, const float *x, const int32_t *y, int n, double *acc);

/* Toy outputs for its 3 inputs. */
int trainer_predict(trainer *t, const float *x, int n, float *out);

#endif
