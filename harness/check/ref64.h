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

/* One batch's forward and backward pass with every intermediate kept, for a model of other
 * arithmetic's error (tf32.c) that must follow the same values. */
typedef struct {
  double loss;
  double *a1;    // a1 (B, n_hidden): x W1 + b1
  double *h;     // h (B, n_hidden): act(a1)
  double *z;     // z (B, n_out): h W2 + b2
  double *dz;    // dz (B, n_out): dloss/dz
  double *up;    // up (B, n_hidden): dloss/dh, before act'
  double *grads; // the flat gradient
} ref64_trace;
int ref64_trace_run(const mlp_spec *s, const double *params, const mlp_batch *b, ref64_trace *t);
void ref64_trace_free(ref64_trace *t);

#endif
