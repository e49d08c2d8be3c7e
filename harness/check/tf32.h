/* tf32.h: how far TF32 products may move a gradient, from TF32's error model, for the
 * weights and batch at hand; the tolerance a TF32 backend is judged by (gradcheck.c).
 *
 * The model. A tensor-core product C = A B of depth K rounds each operand of every term to
 * TF32 (10 explicit mantissa bits: a relative error of at most u = 2^-10 when the low bits
 * are truncated, 2^-11 when rounded) and accumulates in fp32 (2^-24: negligible here). With
 * errors of second moment s^2 = u^2 / 3 per rounding, independent across terms, an element
 * of C moves by Var = 2 s^2 sum_k (A_ik B_kj)^2, plus what its inputs' own errors bring,
 * sum_k Var(A_ik) B_kj^2 + A_ik^2 Var(B_kj). That is carried through the step, in float64:
 * x W1 -> act -> h W2 -> loss' -> h^T dz2, dz2 W2^T -> act' -> x^T dh, and the bias sums;
 * a ReLU whose input is within the error of zero may flip, which moves its gradient by the
 * whole upstream delta (at initial weights this is most of the error in W1 and b1).
 * The predicted relative L2 error of a tensor is sqrt(sum Var) / ||G||; its tolerance is
 * TF32_SIGMAS times that (never below fp32's). The margin covers what the model leaves out
 * (activations that flip sign, errors that are not independent); tests/test_tf32.c measures
 * it on emulated tensor cores and checks that planted bugs still fail. */
#ifndef MLPB_TF32_H
#define MLPB_TF32_H

#include "../../impls/mlp_backend.h"

#define TF32_U 0.0009765625 /* 2^-10: truncation, the larger of the two roundings */
#define TF32_SIGMAS 8.0

/* tol[0] the loss, tol[1..4] W1 b1 W2 b2: predicted relative errors times TF32_SIGMAS, at
 * least GC_TOL_FP32. pred (if not NULL) gets the predictions themselves. 0, or -1 when out
 * of memory. */
int tf32_tolerances(const mlp_spec *s, const float *params, const mlp_batch *b, double tol[5],
                    double pred[5]);

#endif
