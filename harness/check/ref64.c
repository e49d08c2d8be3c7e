#include "ref64.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* h (B, H) = act(x W1 + b1), z (B, O) = h W2 + b2: the forward pass every entry point shares.
 * relu_mask, when not NULL, gets (B, H) bytes: z1 > 0; a1, when not NULL, z1 itself. */
static void forward(const mlp_spec *s, const double *params, const float *x, int B, double *h,
                    double *z, uint8_t *relu_mask, double *a1) {
  const int I = s->n_in, H = s->n_hidden, O = s->n_out;
  size_t off[4];
  mlp_param_offsets(s, off);
  const double *W1 = params + off[0], *b1 = params + off[1];
  const double *W2 = params + off[2], *b2 = params + off[3];
  /* each z1[n][j] = b1[j] + sum_i x[n][i] W1[i][j], summed in the order of i; the loop runs
   * over j innermost so that it reads W1's rows in order */
  for (int n = 0; n < B; n++) {
    double *hn = h + (size_t)n * H;
    for (int j = 0; j < H; j++)
      hn[j] = b1[j];
    for (int i = 0; i < I; i++) {
      const double xi = x[(size_t)n * I + i], *w = W1 + (size_t)i * H;
      for (int j = 0; j < H; j++)
        hn[j] += xi * w[j];
    }
    for (int j = 0; j < H; j++) {
      double a = hn[j];
      if (relu_mask) relu_mask[(size_t)n * H + j] = a > 0.0;
      if (a1) a1[(size_t)n * H + j] = a;
      hn[j] = s->act == MLP_ACT_RELU ? (a > 0.0 ? a : 0.0) : 1.0 / (1.0 + exp(-a));
    }
  }
  for (int n = 0; n < B; n++)
    for (int o = 0; o < O; o++) {
      double a = b2[o];
      for (int j = 0; j < H; j++)
        a += h[(size_t)n * H + j] * W2[(size_t)j * O + o];
      z[(size_t)n * O + o] = a;
    }
}

int ref64_forward(const mlp_spec *s, const double *params, const float *x, int n, double *out) {
  const int H = s->n_hidden, O = s->n_out;
  double *h = malloc(((size_t)n * H + 1) * sizeof *h); // h (n, H)
  if (!h) return -1;
  forward(s, params, x, n, h, out, NULL, NULL);
  for (int r = 0; r < n; r++) {
    double *o = out + (size_t)r * O, mx = o[0], sum = 0.0;
    if (s->loss == MLP_LOSS_SOFTMAX_CE) {
      for (int k = 1; k < O; k++)
        mx = o[k] > mx ? o[k] : mx;
      for (int k = 0; k < O; k++)
        sum += (o[k] = exp(o[k] - mx));
      for (int k = 0; k < O; k++)
        o[k] /= sum;
    } else {
      for (int k = 0; k < O; k++)
        o[k] = 1.0 / (1.0 + exp(-o[k]));
    }
  }
  free(h);
  return 0;
}

/* The loss and, when grads is not NULL, the gradients; t, when not NULL, keeps every
 * intermediate (and then grads must be t->grads). */
static int run(const mlp_spec *s, const double *params, const mlp_batch *b, double *loss,
               double *grads, uint8_t *relu_mask, ref64_trace *t) {
  const int B = b->n, I = s->n_in, H = s->n_hidden, O = s->n_out;
  size_t off[4];
  mlp_param_offsets(s, off);
  const double *W2 = params + off[2];
  double *h = malloc(((size_t)B * H + 1) * sizeof *h); // h (B, H)
  double *z = malloc(((size_t)B * O + 1) * sizeof *z); // z (B, O)
  double *dz = malloc(((size_t)B * O + 1) * sizeof *dz);
  double *dh = malloc(((size_t)B * H + 1) * sizeof *dh);
  double *a1 = t ? malloc(((size_t)B * H + 1) * sizeof *a1) : NULL;
  double *up = t ? malloc(((size_t)B * H + 1) * sizeof *up) : NULL; // dL/dh, before act'
  int rc = -1;
  if (!h || !z || !dz || !dh || (t && (!a1 || !up))) goto done;
  forward(s, params, b->x, B, h, z, relu_mask, a1);
  double L = 0.0;
  for (int n = 0; n < B; n++) {
    double *zn = z + (size_t)n * O, *dzn = dz + (size_t)n * O;
    if (s->loss == MLP_LOSS_SOFTMAX_CE) {
      double mx = zn[0], sum = 0.0;
      for (int o = 1; o < O; o++)
        mx = zn[o] > mx ? zn[o] : mx;
      for (int o = 0; o < O; o++)
        sum += exp(zn[o] - mx);
      int y = b->labels[n];
      L += (log(sum) + mx - zn[y]) / B;
      for (int o = 0; o < O; o++)
        dzn[o] = (exp(zn[o] - mx) / sum - (o == y)) / B;
    } else {
      for (int o = 0; o < O; o++) {
        double out = 1.0 / (1.0 + exp(-zn[o])), e = b->y[(size_t)n * O + o] - out;
        L += 0.5 * e * e;
        dzn[o] = -e * out * (1.0 - out);
      }
    }
  }
  *loss = L;
  rc = 0;
  if (!grads) goto done;
  double *dW1 = grads + off[0], *db1 = grads + off[1], *dW2 = grads + off[2], *db2 = grads + off[3];
  memset(grads, 0, mlp_param_count(s) * sizeof *grads);
  for (int n = 0; n < B; n++)
    for (int o = 0; o < O; o++) {
      double d = dz[(size_t)n * O + o];
      db2[o] += d;
      for (int j = 0; j < H; j++)
        dW2[(size_t)j * O + o] += h[(size_t)n * H + j] * d;
    }
  for (int n = 0; n < B; n++)
    for (int j = 0; j < H; j++) {
      double a = 0.0, hv = h[(size_t)n * H + j];
      for (int o = 0; o < O; o++)
        a += dz[(size_t)n * O + o] * W2[(size_t)j * O + o];
      if (up) up[(size_t)n * H + j] = a;
      dh[(size_t)n * H + j] = s->act == MLP_ACT_RELU ? (hv > 0.0 ? a : 0.0) : a * hv * (1.0 - hv);
    }
  for (int n = 0; n < B; n++) {
    const double *dn = dh + (size_t)n * H;
    for (int j = 0; j < H; j++)
      db1[j] += dn[j];
    for (int i = 0; i < I; i++) {
      const double xi = b->x[(size_t)n * I + i];
      double *dw = dW1 + (size_t)i * H;
      for (int j = 0; j < H; j++)
        dw[j] += xi * dn[j];
    }
  }
  if (t) { /* the trace owns them now */
    *t = (ref64_trace){.loss = L, .a1 = a1, .h = h, .z = z, .dz = dz, .up = up, .grads = grads};
    h = z = dz = a1 = up = NULL;
  }
done:
  free(h);
  free(z);
  free(dz);
  free(dh);
  free(a1);
  free(up);
  return rc;
}

int ref64_loss_grad(const mlp_spec *s, const double *params, const mlp_batch *b, double *loss,
                    double *grads, uint8_t *relu_mask) {
  return run(s, params, b, loss, grads, relu_mask, NULL);
}

int ref64_trace_run(const mlp_spec *s, const double *params, const mlp_batch *b, ref64_trace *t) {
  double L;
  memset(t, 0, sizeof *t);
  double *g = malloc(mlp_param_count(s) * sizeof *g);
  if (!g || run(s, params, b, &L, g, NULL, t)) {
    free(g);
    return -1;
  }
  return 0;
}

void ref64_trace_free(ref64_trace *t) {
  free(t->a1);
  free(t->h);
  free(t->z);
  free(t->dz);
  free(t->up);
  free(t->grads);
  memset(t, 0, sizeof *t);
}
