#include "tf32.h"

#define _GNU_SOURCE /* M_SQRT2 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref64.h"

/* The error variance VC (M, N) of C = A (M, K) B (K, N) computed in TF32, all in double; A^T
 * or B^T by stride. VA, VB: the inputs' variances (p NULL: exact). The product's value
 * itself is ref64's (ref64_trace). */
typedef struct {
  const double *p;
  size_t rs, cs; /* strides of row and column */
} view;

static double at(view v, int r, int c) {
  return v.p[(size_t)r * v.rs + (size_t)c * v.cs];
}

static void variance(double *VC, view A, view VA, view B, view VB, int M, int N, int K, double s2) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double v = 0.0;
      for (int k = 0; k < K; k++) {
        double a = at(A, i, k), b = at(B, k, j), ab = a * b;
        v += 2.0 * s2 * ab * ab;
        if (VA.p) v += at(VA, i, k) * b * b;
        if (VB.p) v += a * a * at(VB, k, j);
      }
      VC[(size_t)i * N + j] = v;
    }
}

static view rowm(const double *p, int cols) { /* row-major (rows, cols) */
  return (view){p, (size_t)cols, 1};
}
static view colm(const double *p, int cols) { /* its transpose */
  return (view){p, 1, (size_t)cols};
}

static double norm2(const double *g, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += g[i] * g[i];
  return s;
}

static double sum(const double *v, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += v[i];
  return s;
}

/* A bias gradient db (C) is the column sums of a (B, C) matrix whose entries have variance
 * var (fp32 sums, no TF32): the predicted relative L2 error. */
static double bias_error(const double *db, const double *var, int B, int C) {
  return sqrt(sum(var, (size_t)B * C) / fmax(norm2(db, (size_t)C), 1e-300));
}

int tf32_tolerances(const mlp_spec *s, const float *params, const mlp_batch *b, double tol[5],
                    double pred[5]) {
  const int B = b->n, I = s->n_in, H = s->n_hidden, O = s->n_out;
  const double s2 = TF32_U * TF32_U / 3.0;
  size_t off[4], n = mlp_param_count(s);
  mlp_param_offsets(s, off);
  size_t bh = (size_t)B * H, bo = (size_t)B * O, ih = (size_t)I * H, ho = (size_t)H * O;
  ref64_trace t = {0};
  double *p = malloc(n * sizeof *p), *x = malloc(((size_t)B * I + 1) * sizeof *x);
  double *vh = malloc((bh + 1) * sizeof *vh), *d1 = malloc((bh + 1) * sizeof *d1);
  double *flip = malloc((bh + 1) * sizeof *flip), *vz = malloc((bo + 1) * sizeof *vz);
  double *vdz = malloc((bo + 1) * sizeof *vdz);
  double *dh = malloc((bh + 1) * sizeof *dh), *vdh = malloc((bh + 1) * sizeof *vdh);
  double *vg = malloc(((ih > ho ? ih : ho) + 1) * sizeof *vg);
  int rc = -1;
  if (!p || !x || !vh || !d1 || !flip || !vz || !vdz || !dh || !vdh || !vg) goto done;
  for (size_t i = 0; i < n; i++)
    p[i] = params[i];
  for (size_t i = 0; i < (size_t)B * I; i++)
    x[i] = b->x[i];
  /* the values: the float64 reference's own forward and backward pass */
  if (ref64_trace_run(s, p, b, &t)) goto done;
  const double *W1 = p + off[0], *W2 = p + off[2], *g = t.grads;
  view none = {NULL, 0, 0};
  // a1 (B, H) = x W1 + b1; h = act(a1); d1 = act'(a1). A ReLU whose input lies within the
  // error of zero may flip: with the error taken as normal, it flips with probability
  // flip = Phi(-|a1| / sd), and then its output moves by |a1| and its gradient by the whole
  // upstream delta. Near-zero units make most of TF32's error in W1 and b1 (measured in
  // tests/test_tf32.c), so the model counts them.
  variance(vh, rowm(x, I), none, rowm(W1, H), none, B, H, I, s2);
  for (size_t k = 0; k < bh; k++) {
    double a = t.a1[k], sd = sqrt(vh[k]), o = t.h[k];
    d1[k] = s->act == MLP_ACT_RELU ? (a > 0) : o * (1.0 - o);
    flip[k] = s->act == MLP_ACT_RELU && sd > 0 ? 0.5 * erfc(fabs(a) / (sd * M_SQRT2)) : 0.0;
    vh[k] = vh[k] * d1[k] * d1[k] + flip[k] * a * a;
  }
  // z (B, O) = h W2 + b2
  variance(vz, rowm(t.h, H), rowm(vh, H), rowm(W2, O), none, B, O, H, s2);
  double vloss = 0.0, L = t.loss;
  for (int r = 0; r < B; r++) {
    const double *zr = t.z + (size_t)r * O, *dzr = t.dz + (size_t)r * O;
    double *vzr = vz + (size_t)r * O, *vdzr = vdz + (size_t)r * O;
    if (s->loss == MLP_LOSS_SOFTMAX_CE) {
      double spv = 0.0;
      for (int o = 0; o < O; o++) { /* p_o = B dz_o + [o = label] */
        double pr = dzr[o] * B + (o == b->labels[r]);
        spv += pr * pr * vzr[o];
      }
      for (int o = 0; o < O; o++) { /* d p_o = p_o (dz_o - sum_l p_l dz_l) */
        double pr = dzr[o] * B + (o == b->labels[r]);
        vdzr[o] = pr * pr * (vzr[o] + spv) / ((double)B * B);
        vloss += dzr[o] * dzr[o] * vzr[o];
      }
    } else {
      for (int o = 0; o < O; o++) {
        double out = 1.0 / (1.0 + exp(-zr[o])), y = b->y[(size_t)r * O + o], e = y - out;
        double os = out * (1.0 - out), slope = os * (os - e * (1.0 - 2.0 * out));
        vdzr[o] = slope * slope * vzr[o];
        vloss += e * e * os * os * vzr[o];
      }
    }
  }
  // dW2 (H, O) = h^T dz; db2 = sum_rows dz
  variance(vg, colm(t.h, H), colm(vh, H), rowm(t.dz, O), rowm(vdz, O), H, O, B, s2);
  double e_W2 = sqrt(sum(vg, ho) / fmax(norm2(g + off[2], ho), 1e-300));
  double e_b2 = bias_error(g + off[3], vdz, B, O);
  // dh (B, H) = (dz W2^T) * act'
  variance(vdh, rowm(t.dz, O), rowm(vdz, O), colm(W2, O), none, B, H, O, s2);
  for (size_t k = 0; k < bh; k++) {
    double up = t.up[k];
    dh[k] = up * d1[k];
    vdh[k] = vdh[k] * d1[k] * d1[k] + flip[k] * up * up;
  }
  // dW1 (I, H) = x^T dh; db1 = sum_rows dh
  variance(vg, colm(x, I), none, rowm(dh, H), rowm(vdh, H), I, H, B, s2);
  double e_W1 = sqrt(sum(vg, ih) / fmax(norm2(g + off[0], ih), 1e-300));
  double e_b1 = bias_error(g + off[1], vdh, B, H);
  /* Truncation errs toward zero in every term, so besides the random part each product is
   * scaled by up to (1 - u) as a whole; that part adds up along the chain instead of
   * averaging out: u per truncated product a result depends on (loss: x W1, h W2; W2 and
   * b2 also loss'; b1 and W1 also dz W2^T, and W1 x^T dh). */
  double e[5] = {sqrt(vloss) / fmax(fabs(L), 1e-300) + 2 * TF32_U, e_W1 + 4 * TF32_U,
                 e_b1 + 3 * TF32_U, e_W2 + 3 * TF32_U, e_b2 + 2 * TF32_U};
  for (int t = 0; t < 5; t++) {
    if (pred) pred[t] = e[t];
    tol[t] = fmax(GC_TOL_FP32, TF32_SIGMAS * e[t]);
  }
  rc = 0;
done:
  ref64_trace_free(&t);
  free(p);
  free(x);
  free(vh);
  free(d1);
  free(flip);
  free(vz);
  free(vdz);
  free(dh);
  free(vdh);
  free(vg);
  return rc;
}
