/* trainer.h: drives one backend through a workload: identical initial weights and identical
 * batches in identical order for every backend (and every peer) with the same seed. */
#ifndef MLPB_TRAINER_H
#define MLPB_TRAINER_H

#include <stdint.h>

#include "../../workloads/rng.h"
#include "../../workloads/workload.h"
#include "../backends/be_handle.h"
#include "timed_region.h"

/* The batch order: every index of an epoch, drawn from the seed's batch stream, as the
 * workload's order says: in order (full batch), a running permutation reshuffled each epoch,
 * or draws with replacement (tutorial sampling). */
typedef struct {
  const workload *w;
  rng_t rng;
  int32_t *perm; /* (n_train) the running permutation */
} batch_order;

int batch_order_init(batch_order *b, const workload *w, uint64_t seed);
/* Indices of the next epoch into out (room for workload_epoch_len); returns their count. */
int batch_order_next(batch_order *b, int32_t *out);
void batch_order_free(batch_order *b);

typedef struct {
  be_handle h;
  const workload *w;
  uint64_t seed;
  batch_order order;
  int epoch;    /* epochs done */
  int progress; /* draw a progress line on stderr */
  const char *label;
  int32_t *epoch_idx; /* every index of the current epoch */
  int32_t *block_idx; /* the indices of one train_steps call (resident backends) */
  size_t block_cap;   /* its room, in indices */
  float *xb;          /* xb (batch, n_in) */
  int32_t *yb;        /* yb (batch) labels */
  float *tb;          /* tb (batch, n_out) regression targets */
  float *out;         /* out (batch, n_out) for evaluation */
  int resident;       /* the backend holds the training split (set_dataset + train_steps) */
  int owns;           /* the trainer opened h and closes it */
  be_handle *shared;  /* the caller's handle this trainer runs on (trainer_open_on), or NULL */
  timed_sample last;  /* the last trainer_epochs call's sample: wall, CPU, the machine */
  double last_device; /* the backend's own (device) seconds of that call, < 0: none */
  char err[512];
} trainer;

/* Creates the backend's context and loads the seeded initial weights. */
int trainer_open(trainer *t, const mlp_backend *be, const mlp_options *opt, const workload *w,
                 uint64_t seed);
/* The same on a live backend the caller keeps (one context for every run of a backend);
 * set_params starts it afresh, and a training split it already holds is not sent again. */
int trainer_open_on(trainer *t, be_handle *h, const workload *w, uint64_t seed);
void trainer_close(trainer *t);

/* Runs k epochs back to back (k > 1 only for the toy net's timing blocks) as one timed region
 * (timed_region.h): *seconds is the wall time from the first epoch's batch order to the
 * be_sync after the last step, the same span for every backend and both paths (progress
 * output excluded; one sync per call, not per epoch), t->last the whole sample with the
 * machine's figures; t->last_device the backend's own clock over its steps where it has one. *loss
 * is the mean batch loss of the last epoch. Fails (with t->err) on a backend error or a non-finite
 * loss, naming the epoch and step. */
int trainer_epochs(trainer *t, int k, double *seconds, double *loss);

/* Accuracy on (x, y); NaN when n == 0 (not measured). */
int trainer_accuracy(trainer *t, const float *x, const int32_t *y, int n, double *acc);

/* The class a row of n outputs predicts (the first of equal maxima). */
int trainer_argmax(const float *p, int n);

/* Outputs (n, n_out) for x (n, n_in). */
int trainer_predict(trainer *t, const float *x, int n, float *out);

#endif
