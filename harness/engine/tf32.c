#include "tf32.h"

#define _GNU_SOURCE /* M_SQRT2 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"

/* C (M, N) = A (M, K) B (K, N) with its error variance, all in double; A^T or B^T by stride.
 * va, vb: the inputs' variances (NULL: exact). */
typedef struct {
  const double *p;
  size_t rs, cs; /* strides of row and column */
} view;

static double at(view v, int r, int c) {
  return v.p[(size_t)r * v.rs + (size_t)c * v.cs];
}

static void product(double *C, double *VC, view A, view VA, view B, view VB, int M, int N, int K,
                    double s2) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double c = 0.0, v = 0.0;
      for (int k = 0; k < K; k++) {
        double a = at(A, i, k), b = at(B, k, j), ab = a * b;
        c += ab;
        v += 2.0 * s2 * ab * ab;
        if (VA.p) v += at(VA, i, k) * b * b;
        if (VB.p) v += a * a * at(VB, k, j);
      }
      C[(size_t)i * N + j] = c;
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

/* A bias gradient is the column sums of d (B, C), its error those of var (fp32 sums, no
 * TF32): the predicted relative L2 error. */
static double bias_error(const double *d, const double *var, int B, int C) {
  double n2 = 0.0, v2 = 0.0;
  for (int c = 0; c < C; c++) {
    double a = 0.0;
    for (int r = 0; r < B; r++) {
      a += d[(size_t)r * C + c];
      v2 += var[(size_t)r * C + c];
    }
    n2 += a * a;
  }
  return sqrt(v2 / fmax(n2, 1e-300));
}

int tf32_tolerances(const mlp_spec *s, const float *params, const mlp_batch *b, double tol[5],
                    double pred[5]) {
  const int B = b->n, I = s->n_in, H = s->n_hidden, O = s->n_out;
  const double s2 = TF32_U * TF32_U / 3.0;
  size_t off[4], n = mlp_param_count(s);
  mlp_param_offsets(s, off);
  size_t bh = (size_t)B * H, bo = (size_t)B * O, ih = (size_t)I * H, ho = (size_t)H * O;
  double *p = malloc(n * sizeof *p), *x = malloc((size_t)B * I * sizeof *x);
  double *h = malloc(bh * sizeof *h), *vh = malloc(bh * sizeof *vh), *d1 = malloc(bh * sizeof *d1);
  double *flip = malloc(bh * sizeof *flip);
  double *z = malloc(bo * sizeof *z), *vz = malloc(bo * sizeof *vz);
  double *dz = malloc(bo * sizeof *dz), *vdz = malloc(bo * sizeof *vdz);
  double *dh = malloc(bh * sizeof *dh), *vdh = malloc(bh * sizeof *vdh);
  double *g = malloc(ih * sizeof *g), *vg = malloc(ih * sizeof *vg);
  int rc = -1;
  if (!p || !x || !h || !vh || !d1 || !flip || !z || !vz || !dz || !vdz || !dh || !vdh || !g || !vg)
    goto done;
  for (size_t i = 0; i < n; i++)
    p[i] = params[i];
  for (size_t i = 0; i < (size_t)B * I; i++)
    x[i] = b->x[i];
  const double *W1 = p + off[0], *b1 = p + off[1], *W2 = p + off[2], *b2 = p + off[3];
  view none = {NULL, 0, 0};
  // hpre (B, H) = x W1 + b1; h = act(hpre); d1 = act'(hpre). A ReLU whose input lies
  // within the error of zero may flip: with the error taken as normal, it flips with
  // probability flip = Phi(-|hpre| / sd), and then its output moves by |hpre| and its
  // gradient by the whole upstream delta. Near-zero units make most of TF32's error in W1
  // and b1 (measured in tests/test_tf32.c), so the model counts them.
  product(h, vh, rowm(x, I), none, rowm(W1, H), none, B, H, I, s2);
  for (size_t k = 0; k < bh; k++) {
    double a = h[k] + b1[k % H], sd = sqrt(vh[k]);
    double o = s->act == MLP_ACT_RELU ? (a > 0 ? a : 0) : 1.0 / (1.0 + exp(-a));
    d1[k] = s->act == MLP_ACT_RELU ? (a > 0) : o * (1.0 - o);
    flip[k] = s->act == MLP_ACT_RELU && sd > 0 ? 0.5 * erfc(fabs(a) / (sd * M_SQRT2)) : 0.0;
    h[k] = o;
    vh[k] = vh[k] * d1[k] * d1[k] + flip[k] * a * a;
  }
  // z (B, O) = h W2 + b2
  product(z, vz, rowm(h, H), rowm(vh, H), rowm(W2, O), none, B, O, H, s2);
  double vloss = 0.0, L = 0.0;
  for (int r = 0; r < B; r++) {
    double *zr = z + (size_t)r * O, *vzr = vz + (size_t)r * O;
    double *dzr = dz + (size_t)r * O, *vdzr = vdz + (size_t)r * O;
    for (int o = 0; o < O; o++)
      zr[o] += b2[o];
    if (s->loss == MLP_LOSS_SOFTMAX_CE) {
      double mx = zr[0], se = 0.0, spv = 0.0;
      for (int o = 1; o < O; o++)
        mx = zr[o] > mx ? zr[o] : mx;
      for (int o = 0; o < O; o++)
        se += exp(zr[o] - mx);
      L += (log(se) + mx - zr[b->labels[r]]) / B;
      for (int o = 0; o < O; o++) {
        double pr = exp(zr[o] - mx) / se;
        spv += pr * pr * vzr[o];
        dzr[o] = (pr - (o == b->labels[r])) / B;
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
        L += 0.5 * e * e;
        dzr[o] = -e * os;
        vdzr[o] = slope * slope * vzr[o];
        vloss += e * e * os * os * vzr[o];
      }
    }
  }
  // dW2 (H, O) = h^T dz; db2 = sum_rows dz
  product(g, vg, colm(h, H), colm(vh, H), rowm(dz, O), rowm(vdz, O), H, O, B, s2);
  double e_W2 = sqrt(sum(vg, ho) / fmax(norm2(g, ho), 1e-300));
  double e_b2 = bias_error(dz, vdz, B, O);
  // dh (B, H) = (dz W2^T) * act'
  product(dh, vdh, rowm(dz, O), rowm(vdz, O), colm(W2, O), none, B, H, O, s2);
  for (size_t k = 0; k < bh; k++) {
    double up = dh[k];
    dh[k] = up * d1[k];
    vdh[k] = vdh[k] * d1[k] * d1[k] + flip[k] * up * up;
  }
  // dW1 (I, H) = x^T dh; db1 = sum_rows dh
  product(g, vg, colm(x, I), none, rowm(dh, H), rowm(vdh, H), I, H, B, s2);
  double e_W1 = sqrt(sum(vg, ih) / fmax(norm2(g, ih), 1e-300));
  double e_b1 = bias_error(dh, vdh, B, H);
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
  free(p);
  free(x);
  free(h);
  free(vh);
  free(d1);
  free(flip);
  free(z);
  free(vz);
  free(dz);
  free(vdz);
  free(dh);
  free(vdh);
  free(g);
  free(vg);
  return rc;
}
