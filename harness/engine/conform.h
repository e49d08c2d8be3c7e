/* conform.h: `mlpbench conform`'s checks on one backend, against the float64 reference
 * (ref64.c), in this process. cmd_conform.c runs them in a child per backend, under a time
 * limit, so a backend that crashes or hangs is reported instead of taking mlpbench down.
 *
 * Each check prints one line: PASSED, FAILED (why), NOT SUPPORTED (an optional slot is
 * absent, or the backend declined) or SKIPPED (why). Before a check starts, the line
 * "@check NAME" goes to `f` too, so the parent knows which check a crash happened in. */
#ifndef MLPB_CONFORM_H
#define MLPB_CONFORM_H

#include <stdio.h>

#include "../../impls/mlp_backend.h"

typedef enum { CF_PASSED, CF_FAILED, CF_NOT_SUPPORTED, CF_SKIPPED } cf_status;

/* The stated tolerances. */
#define CF_TOL_GRAD 1e-5  /* relative L2 per tensor, loss and outputs: fp32 in any order */
#define CF_TOL_FD 1e-6    /* the float64 reference against central differences */
#define CF_TOL_STEP 1e-4  /* relative L2 of one optimizer update against float64's */
#define CF_TOL_CURVE 1e-3 /* relative difference of each epoch's mean loss, training run */
#define CF_TOL_ACC 0.02   /* the training run's final accuracy, absolute */

int conform_count(void);
const char *conform_name(int i);
int conform_find(const char *name); /* index, or -1 */

/* Runs check i (or every check when i < 0) on be; lines to f, each prefixed by the
 * backend's name. Returns the number of FAILED checks. */
int conform_run(const mlp_backend *be, int i, FILE *f);

/* "mlpbench conform [--backend-lib PATH] --backend NAME [--check CHECK]" into buf. */
void conform_repro(const mlp_backend *be, const char *check, char *buf, size_t len);

#endif
