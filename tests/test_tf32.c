/* test_tf32.c: the TF32 tolerance rule (harness/tf32.h) on tensor cores emulated on the CPU:
 * every product's operands rounded to TF32 (10 mantissa bits; truncated, and rounded to
 * nearest), fp32 accumulation, the rest of the step in fp32 as the CUDA backend computes it.
 * On real data, at initial weights and after training, the emulated gradients must pass the
 * rule; with a planted bug (a lost bias gradient, weights paired with the wrong inputs) they
 * must fail. tests/test_cuda.c runs the same rule against real tensor cores. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/backends/registry.h"
#include "../harness/check/gradcheck.h"
#include "../harness/check/tf32.h"
#include "../harness/run/trainer.h"
#include "t.h"

static int nearest; /* 0: truncate the low 13 bits; 1: round to nearest, ties away */

static float tf32(float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  if (nearest) u += 0x1000u;
  u &= ~0x1fffu;
  memcpy(&v, &u, 4);
  return v;
}

// C (M, N) = op(A) op(B) with TF32 operands, fp32 sums; element (i,k) of op(A) at A[i*ars+k*acs]
static void gemm(float *C, const float *A, size_t ars, size_t acs, const float *B, size_t brs,
                 size_t bcs, int M, int N, int K) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0.0f;
      for (int k = 0; k < K; k++)
        s += tf32(A[i * ars + k * acs]) * tf32(B[k * brs + j * bcs]);
      C[(size_t)i * N + j] = s;
    }
}

/* The step's gradients as a TF32 device computes them; plant: 1 drops db1, 2 pairs dW1 with
 * the batch's rows shifted by one. */
static float tf32_grads(const mlp_spec *s, const float *p, const mlp_batch *b, float *g,
                        int plant) {
  const int B = b->n, I = s->n_in, H = s->n_hidden, O = s->n_out;
  size_t off[4];
  mlp_param_offsets(s, off);
  float *h = calloc((size_t)B * H, sizeof *h), *z = malloc((size_t)B * O * sizeof *z);
  float *dz = calloc((size_t)B * O, sizeof *dz), *dh = malloc((size_t)B * H * sizeof *dh);
  float *xs = malloc((size_t)B * I * sizeof *xs);
  gemm(h, b->x, I, 1, p + off[0], H, 1, B, H, I);
  for (size_t k = 0; k < (size_t)B * H; k++) {
    float a = h[k] + p[off[1] + k % H];
    h[k] = a > 0.0f ? a : 0.0f;
  }
  gemm(z, h, H, 1, p + off[2], O, 1, B, O, H);
  double loss = 0.0;
  for (int r = 0; r < B; r++) {
    float *zr = z + (size_t)r * O, mx = -INFINITY, sum = 0.0f;
    for (int o = 0; o < O; o++) {
      zr[o] += p[off[3] + o];
      mx = zr[o] > mx ? zr[o] : mx;
    }
    for (int o = 0; o < O; o++)
      sum += expf(zr[o] - mx);
    loss += logf(sum) + mx - zr[b->labels[r]];
    for (int o = 0; o < O; o++)
      dz[(size_t)r * O + o] = (expf(zr[o] - mx) / sum - (o == b->labels[r])) / (float)B;
  }
  gemm(g + off[2], h, 1, H, dz, O, 1, H, O, B);  // dW2 = h^T dz
  gemm(dh, dz, O, 1, p + off[2], 1, O, B, H, O); // dh = dz W2^T
  for (size_t k = 0; k < (size_t)B * H; k++)
    dh[k] = h[k] > 0.0f ? dh[k] : 0.0f;
  for (int o = 0; o < O; o++) {
    float a = 0.0f;
    for (int r = 0; r < B; r++)
      a += dz[(size_t)r * O + o];
    g[off[3] + o] = a;
  }
  for (int j = 0; j < H; j++) {
    float a = 0.0f;
    for (int r = 0; r < B; r++)
      a += dh[(size_t)r * H + j];
    g[off[1] + j] = plant == 1 ? 0.0f : a;
  }
  for (int r = 0; r < B; r++) /* plant 2: the rows of x one place off */
    memcpy(xs + (size_t)r * I, b->x + (size_t)((r + (plant == 2)) % B) * I, (size_t)I * 4);
  gemm(g + off[0], xs, 1, I, dh, H, 1, I, H, B); // dW1 = x^T dh
  free(h);
  free(z);
  free(dz);
  free(dh);
  free(xs);
  return (float)(loss / B);
}

/* What a check judges against, per data set and epochs of training: loaded, trained, its
 * batch, float64 reference and TF32 model computed once (each check differs only in the
 * rounding and the planted bug, which touch the emulated gradients alone). */
typedef struct {
  const char *data;
  int epochs, state; /* 0: not yet, 1: ready, -1: data set not here */
  mlpb_dataset d;
  workload w;
  float *p;
  gc_batch gb;
  double ref_loss, *ref, tol[5], pred[5];
} prepared;
static prepared cache[4];

static prepared *prepare(const char *data, int epochs) {
  prepared *c = NULL;
  for (int i = 0; i < 4 && !c; i++)
    if (!cache[i].data || (!strcmp(cache[i].data, data) && cache[i].epochs == epochs))
      c = &cache[i];
  if (!c || c->state) return c;
  char err[512];
  wl_config cfg = {.limit = 3000, .epochs = epochs ? epochs : 1};
  c->data = data;
  c->epochs = epochs;
  if (dataset_load(data, &c->d, err, sizeof err)) {
    printf("skipped: %s: %s\n", data, err);
    c->state = -1;
    return c;
  }
  T_CHECK(workload_mnist(&c->w, &c->d, &cfg, err, sizeof err) == 0, "%s", err);
  size_t n = mlp_param_count(&c->w.spec);
  c->p = malloc(n * sizeof *c->p);
  workload_init_params(&c->w, 5, c->p);
  if (epochs) {
    const mlp_backend *be = registry_find("blas");
    char why[256];
    if (!be->available(be, why, sizeof why)) be = registry_find("naive");
    mlp_options o = {.ftz = 1};
    trainer t;
    double sec, l;
    T_CHECK(trainer_open(&t, be, &o, &c->w, 5) == 0, "%s", t.err);
    for (int e = 0; e < epochs; e++)
      trainer_epochs(&t, 1, &sec, &l);
    be->get_params(t.h.ctx, c->p);
    trainer_close(&t);
  }
  gc_batch_make(&c->w, 5, &c->gb);
  gc_reference(&c->w, c->p, &c->gb.b, &c->ref_loss, &c->ref);
  T_CHECK(tf32_tolerances(&c->w.spec, c->p, &c->gb.b, c->tol, c->pred) == 0,
          "model: out of memory");
  c->state = 1;
  return c;
}

static void cache_free(void) {
  for (int i = 0; i < 4; i++) {
    prepared *c = &cache[i];
    if (c->state != 1) continue;
    free(c->ref);
    free(c->p);
    gc_batch_free(&c->gb);
    workload_free(&c->w);
    dataset_free(&c->d);
  }
}

/* Judges emulated TF32 gradients on `data` (after `epochs` of naive training when > 0). */
static void check(const char *data, int epochs, int plant) {
  prepared *c = prepare(data, epochs);
  T_CHECK(c != NULL, "more than 4 prepared cases");
  if (!c || c->state != 1) return;
  const double *tol = c->tol, *pred = c->pred;
  float *g = malloc(mlp_param_count(&c->w.spec) * sizeof *g);
  gc_tol gt = {tol[0], {tol[1], tol[2], tol[3], tol[4]}};
  gc_result r;
  float loss = tf32_grads(&c->w.spec, c->p, &c->gb.b, g, plant);
  gc_judge(&c->w.spec, g, loss, c->ref_loss, c->ref, &gt, &r);
  printf("  %-8s %s, %d epochs%s: error / predicted (x tolerance %.0f): loss %.1e/%.1e", data,
         nearest ? "nearest " : "truncate", epochs, plant ? ", planted bug" : "", TF32_SIGMAS,
         r.loss_rel, pred[0]);
  for (int t = 0; t < 4; t++)
    printf("  %s %.1e/%.1e", gc_tensor_names[t], r.t[t].rel_l2, pred[t + 1]);
  printf("\n");
  for (int t = 0; t < 5; t++) /* a rule that can fail: an error of order 1 never fits */
    T_CHECK(tol[t] < 0.25, "%s: tolerance %d is %.2e", data, t, tol[t]);
  if (plant)
    T_CHECK(!r.pass, "%s: planted bug %d passed (worst %.2e)", data, plant, r.worst);
  else
    T_CHECK(r.pass, "%s after %d epochs: emulated TF32 fails its rule (worst %.2e)", data, epochs,
            r.worst);
  free(g);
}

static void test_tf32_rule_passes_real_data(void) {
  const char *sets[2] = {"digits", "fashion"};
  for (nearest = 0; nearest < 2; nearest++)
    for (int i = 0; i < 2; i++) {
      check(sets[i], 0, 0);
      check(sets[i], 2, 0);
    }
  nearest = 0;
}

static void test_tf32_rule_fails_planted_bugs(void) {
  check("digits", 0, 1);
  check("digits", 0, 2);
  check("digits", 2, 1);
  check("digits", 2, 2);
}

/* fp32 backends, and TF32-capable ones run without --tf32, keep fp32's tolerance. */
static void test_tf32_only_when_asked(void) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 600};
  T_CHECK(dataset_load("synthetic:600", &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  float *p = malloc(mlp_param_count(&w.spec) * sizeof *p);
  workload_init_params(&w, 1, p);
  gc_batch gb;
  gc_batch_make(&w, 1, &gb);
  static const mlp_props tf32_capable = {.tf32 = 1};
  mlp_backend fake = *registry_find("naive");
  gc_tol t;
  mlp_options on = {.tf32 = 1}, off = {.tf32 = 0};
  T_CHECK(gc_tolerance(&fake, &on, &w, p, &gb.b, &t) == 0 && t.t[0] == GC_TOL_FP32,
          "an fp32 backend got %.2e", t.t[0]);
  fake.props = &tf32_capable;
  T_CHECK(gc_tolerance(&fake, &off, &w, p, &gb.b, &t) == 0 && t.t[0] == GC_TOL_FP32,
          "no --tf32, yet %.2e", t.t[0]);
  T_CHECK(gc_tolerance(&fake, &on, &w, p, &gb.b, &t) == 0 && t.t[0] > 1e-3 && t.t[0] < 0.25,
          "--tf32 on a TF32 backend: W1 tolerance %.2e", t.t[0]);
  free(p);
  gc_batch_free(&gb);
  workload_free(&w);
  dataset_free(&d);
}

int main(void) {
  T_RUN(test_tf32_only_when_asked);
  T_RUN(test_tf32_rule_passes_real_data);
  T_RUN(test_tf32_rule_fails_planted_bugs);
  cache_free();
  T_EXIT();
}
