/* conform.h: `mlpbench conform`'s checks on one backend, against the float64 reference
 * (ref64.c), in this process: a conform child's (cmd_conform.c runs each backend's checks in
 * children under a deadline, so a backend that crashes or hangs is reported instead of
 * taking mlpbench down; the parent never runs a plugin's code).
 *
 * Each check ends PASSED, FAILED (why), NOT SUPPORTED (an optional slot is absent, or the
 * backend declined) or SKIPPED (why), reported to the parent over conform_proto.h's lines. */
#ifndef MLPB_CONFORM_H
#define MLPB_CONFORM_H

#include <stdio.h>

#include "../../impls/mlp_backend.h"

typedef enum { CF_PASSED, CF_FAILED, CF_NOT_SUPPORTED, CF_SKIPPED } cf_status;

/* The stated tolerances. Gradients, loss and outputs are judged by gradcheck's GC_TOL_FP32
 * (gradcheck.h), the reference by gradcheck's finite-difference bounds. */
#define CF_TOL_STEP 1e-4  /* relative L2 of one optimizer update against float64's */
#define CF_TOL_CURVE 1e-3 /* relative difference of each epoch's mean loss, training run */
#define CF_TOL_ACC 0.02   /* the training run's final accuracy, absolute */

int conform_count(void);
const char *conform_name(int i);
int conform_find(const char *name); /* index, or -1 */

/* Runs check i on be with opt (its code path and FTZ setting): the lines S and R of
 * conform_proto.h to f. 1 when it FAILED, else 0. */
int conform_run(const mlp_backend *be, int i, const mlp_options *opt, FILE *f);

const char *conform_status_word(cf_status s);

#endif
