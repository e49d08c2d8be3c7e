/* gradcheck.h: one backend's loss and gradients against the float64 reference, and the
 * reference itself against central finite differences. */
#ifndef MLPB_GRADCHECK_H
#define MLPB_GRADCHECK_H

#include "../../workloads/workload.h"
#include "../backends/be_handle.h"
#include "../output/report.h"

/* Documented tolerances on the relative L2 error of the loss and of each gradient tensor. */
#define GC_TOL_FP32 1e-5 /* fp32 arithmetic, any summation order */

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

/* The float64 reference against central differences, with a step and an error bound derived
 * from float64's precision (eps = DBL_EPSILON), not fixed numbers:
 * - step h = cbrt(eps) * max(1, |p|): it balances a central difference's truncation error,
 *   h^2 |f'''| / 6, against its rounding error, eps_f / h, for a loss of order 1 whose inputs,
 *   activations and logits are of order 1 (gc_fd_result.step);
 * - estimate: Richardson's R = (4 D(h) - D(2h)) / 3 of the central differences D(h), D(2h),
 *   whose truncation error is O(h^4);
 * - bound on |R - g|: |D(h) - D(2h)| / 3 (the h^2 term R removed, far above what is left)
 *   + 1.5 * eps_f / h (R's rounding, each loss L being within eps_f of the exact one)
 *   + GC_FD_KAPPA * eps * |g| (the gradient's own rounding), where
 *   eps_f = GC_FD_KAPPA * eps * |L| * sqrt(n) for the n = batch x (n_out + 1) rounded terms
 *   summed into L: rounding errors of n operations grow as sqrt(n) eps with high
 *   probability (Higham and Mary's probabilistic bound), not as the worst case n eps, which
 *   would bound nothing useful;
 * - an entry whose bound exceeds GC_FD_RESOLVE of its derivative is not checked: there the
 *   differences measure rounding, not the derivative (W1 rows of always-blank pixels are
 *   exactly zero).
 * The check passes when every checked entry lies within its bound, so the verdict does not
 * depend on how small a gradient happens to be (a relative tolerance fails on the small ones,
 * as 1e-6 did on b2 at --limit 300). */
/* Measured over 287 sizes (--limit 30..3000, batch 1..1000, hidden 1..2048, toy hidden 1..5):
 * a Richardson estimate's gap to the reference never passed 0.74 eps |L| sqrt(n) / h, the
 * bound allows 1.5 GC_FD_KAPPA = 6 of them; the worst entry used 0.12 of its bound. */
#define GC_FD_KAPPA 4.0    /* rounding of one float64 loss, in eps * |L| * sqrt(n) */
#define GC_FD_RESOLVE 1e-3 /* the relative error an entry's bound must resolve */

enum { GC_FD_CHECKED = 0, GC_FD_KINK = 1, GC_FD_UNRESOLVED = 2 };
typedef struct {
  size_t index;           /* into the flat parameter layout */
  double grad, fd, bound; /* reference gradient, Richardson estimate, bound on their gap */
  int status;             /* GC_FD_CHECKED, GC_FD_KINK or GC_FD_UNRESOLVED */
} gc_fd_entry;

typedef struct {
  int checked, skipped_kinks, skipped_unresolved;
  double step;      /* h for a parameter of magnitude at most 1 */
  double max_ratio; /* worst |R - g| / bound over the checked entries (pass: at most 1) */
  double max_rel;   /* worst |R - g| / max(|R|, |g|), for information */
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

/* sqrt(sum (g - r)^2 / sum r^2): the relative L2 error every judged tensor is measured by. */
double gc_rel_l2(const float *g, const double *r, size_t n);

/* Every part of a failed check, for a message: "on a batch of 33: W1 2.1e-01 > 1e-05, W2 ..." */
void gc_failure_text(const gc_result *r, char *buf, size_t len);

/* The one gradient judge: g and loss (a backend's, a peer's, a conform check's) against the
 * reference, each tensor and the loss within its own tolerance. */
void gc_judge(const mlp_spec *s, const float *g, double loss, double ref_loss,
              const double *ref_grads, const gc_tol *tol, gc_result *r);

/* Checks the reference gradient `grads` at the n flat indices idx[] as above; out, when not
 * NULL, gets one entry per index. 0, or -1 when out of memory. */
int gc_fd_entries(const mlp_spec *s, const float *params, const mlp_batch *b, const double *grads,
                  const size_t *idx, int n, gc_fd_entry *out, gc_fd_result *r);

/* The same on up to `per_tensor` distinct random entries of each tensor that the check can
 * resolve, skipping any perturbation that flips a ReLU (the loss has a kink there). */
int gc_finite_differences(const mlp_spec *s, const float *params, const mlp_batch *b,
                          const double *ref_grads, int per_tensor, uint64_t seed, gc_fd_result *r);

#endif
