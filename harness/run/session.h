/* session.h: the setup every command repeats for one workload: its data loaded, the workload
 * built, the seeded initial weights, the check batch and the float64 reference on it. */
#ifndef MLPB_SESSION_H
#define MLPB_SESSION_H

#include "../check/gradcheck.h"
#include "plan.h"

typedef struct {
  mlpb_dataset d; /* empty for a workload that needs no data */
  workload w;
  float *params; /* the weights every backend starts from */
  gc_batch gb;   /* the gradient check's batch */
  double ref_loss;
  double *ref; /* the float64 reference gradients on gb */
  /* an odd, short batch (the first rows of gb): a backend wrong only on odd or partial
   * batches fails here, though every batch of the run is even and full (n 0: none) */
  mlp_batch odd;
  double odd_loss, *odd_ref;
} wl_session;

/* Builds e under plan p; with `check`, also the weights, the check batch and the reference.
 * 0, or an exit code after printing "mlpbench CMD: why". */
int session_open(wl_session *s, const wl_entry *e, const run_plan *p, int check, const char *cmd);
void session_close(wl_session *s);

/* The gradient check of backend be on both of s's batches (h: a live context of the run's
 * spec, or NULL for one of its own; a batch larger than h's spec gets a context of its own).
 * r: the first failing batch's figures, else the run's batch's. 0, or -1 with err set. */
int session_check(const wl_session *s, const mlp_backend *be, const mlp_options *opt, be_handle *h,
                  gc_result *r, char *err, size_t len);

#endif
