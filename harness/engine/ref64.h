/* ref64.h: the float64 reference every backend's gradients are judged against. It is the
 * harness's, not a backend: plain loops in double, written for obviousness. */
#ifndef MLPB_REF64_H
#define MLPB_REF64_H

#include <stdint.h>

#include "../../impls/mlp_backend.h"

/* Loss of batch b under params (flat layout, double) and, if grads != NULL, its gradient
 * (flat, overwritten). If relu_mask != NULL it receives (B, n_hidden) bytes: z1 > 0.
 * Returns 0, or -1 when out of memory. */
int ref64_loss_grad(const mlp_spec *s, const double *params, const mlp_batch *b, double *loss,
                    double *grads, uint8_t *relu_mask);

/* The outputs of n samples x (n, n_in) under params: out (n, n_out) gets sigmoid outputs or
 * softmax probabilities, from the same forward pass as the loss above. 0, or -1 when out of
 * memory. */
int ref64_forward(const mlp_spec *s, const double *params, const float *x, int n, double *out);

#endif
