/* session.h: the setup every command repeats for one workload: its data loaded, the workload
 * built, the seeded initial weights, the check batch and the float64 reference on it. */
#ifndef MLPB_SESSION_H
#define MLPB_SESSION_H

#include "gradcheck.h"
#include "plan.h"

typedef struct {
  mlpb_dataset d; /* empty for a workload that needs no data */
  workload w;
  float *params; /* the weights every backend starts from */
  gc_batch gb;   /* the gradient check's batch */
  double ref_loss;
  double *ref; /* the float64 reference gradients on gb */
} wl_session;

/* Builds e under plan p; with `check`, also the weights, the check batch and the reference.
 * 0, or an exit code after printing "mlpbench CMD: why". */
int session_open(wl_session *s, const wl_entry *e, const run_plan *p, int check, const char *cmd);
void session_close(wl_session *s);

#endif
