/* gradcheck.h: one backend's loss and gradients against the float64 reference, and the
 * reference itself against central finite differences. */
#ifndef MLPB_GRADCHECK_H
#define MLPB_GRADCHECK_H

#include "../../workloads/workload.h"
#include "../output/report.h"
#include "be_handle.h"

/* Documented tolerances on the relative L2 error of the loss and of each gradient tensor. */
#define GC_TOL_FP32 1e-5 /* fp32 arithmetic, any summation order */
#define GC_TOL_FD 1e-6   /* float64 reference vs central differences */

/* Tolerances on the relative L2 error of the loss and of each tensor (W1 b1 W2 b2). */
typedef struct {
  double loss, t[4];
} gc_tol;

gc_tol gc_tol_fp32(void);
/* The tolerance a backend is judged by on this batch and these weights: fp32's, or, for a
 * backend that honours mlp_options.tf32 (props->tf32) when the run asks for it, TF32's
 * error model (tf32.h). 0, or -1 when out of memory. */
int gc_tolerance(const mlp_backend *be, const mlp_options *opt, const workload *w,
                 const float *params, const mlp_batch *b, gc_tol *tol);

typedef struct {
  int checked, skipped_kinks;
  double max_rel;
  int pass;
} gc_fd_result;

/* The batch gradcheck uses: the first min(batch, n_train) samples of a seeded shuffle (the
 * whole input, in order, for a full-batch workload). */
typedef struct {
  mlp_batch b;
  float *x;
  int32_t *labels;
  float *targets;
} gc_batch;
int gc_batch_make(const workload *w, uint64_t seed, gc_batch *gb);
void gc_batch_free(gc_batch *gb);

/* The reference: loss and gradients in float64 of the float weights `params`. */
int gc_reference(const workload *w, const float *params, const mlp_batch *b, double *loss,
                 double **grads);

/* The check on a live backend whose spec holds the batch (set_params starts it afresh). */
int gc_check_handle(be_handle *h, const workload *w, const mlp_batch *b, const float *params,
                    double ref_loss, const double *ref_grads, const gc_tol *tol, gc_result *r,
                    char *err, size_t len);
/* The same on a context of its own. */
int gc_check_backend(const mlp_backend *be, const mlp_options *opt, const workload *w,
                     const mlp_batch *b, const float *params, double ref_loss,
                     const double *ref_grads, const gc_tol *tol, gc_result *r, char *err,
                     size_t len);

/* Judges gradients obtained elsewhere (a peer): g and loss against the reference. */
void gc_judge(const workload *w, const float *g, double loss, double ref_loss,
              const double *ref_grads, const gc_tol *tol, gc_result *r);

/* Central differences of the float64 loss on `per_tensor` random parameters of each tensor,
 * skipping any perturbation that flips a ReLU (the loss has a kink there). */
int gc_finite_differences(const workload *w, const float *params, const mlp_batch *b,
                          const double *ref_grads, int per_tensor, uint64_t seed, gc_fd_result *r);

#endif
