/* conform.c: the conformance checks. Every check builds its own small model and data from a
 * fixed seed, runs the backend through its slots and judges it against float64: the
 * reference's loss, gradients and outputs (ref64.c) judged as gradcheck judges (gc_judge,
 * GC_TOL_FP32), and this file's float64 optimizer steps, written as plainly as ref64. */
#include "conform.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/rng.h"
#include "../backends/be_handle.h"
#include "conform_proto.h"
#include "gradcheck.h"
#include "ref64.h"

/* ---- one model and its data ---- */
typedef struct {
  const char *name;
  int n_in, n_hidden, n_out;
  mlp_act act;
  mlp_loss loss;
  int batch, max_batch; /* batch < max_batch: a short batch, after a full one */
} cf_shape;

typedef struct {
  mlp_spec spec;
  size_t np;
  float *params;
  int n; /* samples */
  float *x, *y;
  int32_t *labels;
} cf_case;

static float rng_unit(rng_t *r) { /* uniform in [-1, 1) */
  return 2.0f * rng_uniform(r) - 1.0f;
}

static void case_free(cf_case *c) {
  free(c->params), free(c->x), free(c->y), free(c->labels);
  memset(c, 0, sizeof *c);
}

/* Weights at 1/sqrt(fan_in), inputs in [-1, 1), labels or targets in (0, 1) drawn from seed. */
static int case_make(cf_case *c, const cf_shape *sh, mlp_opt opt, int n, uint64_t seed_) {
  rng_t seed;
  rng_seed(&seed, seed_, RNG_STREAM_TEST);
  memset(c, 0, sizeof *c);
  c->spec = (mlp_spec){.n_in = sh->n_in,
                       .n_hidden = sh->n_hidden,
                       .n_out = sh->n_out,
                       .act = sh->act,
                       .loss = sh->loss,
                       .opt = opt,
                       .lr = opt == MLP_OPT_ADAM ? 1e-2f : 0.1f,
                       .beta1 = 0.9f,
                       .beta2 = 0.999f,
                       .eps = 1e-8f,
                       .max_batch = sh->max_batch};
  c->np = mlp_param_count(&c->spec);
  c->n = n;
  c->params = malloc(sizeof(float) * c->np);
  c->x = malloc(sizeof(float) * (size_t)n * sh->n_in);
  c->y = malloc(sizeof(float) * (size_t)n * sh->n_out);
  c->labels = malloc(sizeof(int32_t) * (size_t)n);
  if (!c->params || !c->x || !c->y || !c->labels) return -1;
  size_t off[4];
  mlp_param_offsets(&c->spec, off);
  for (size_t i = 0; i < c->np; i++)
    c->params[i] = rng_unit(&seed) / sqrtf((float)(i < off[2] ? sh->n_in : sh->n_hidden));
  for (size_t i = 0; i < (size_t)n * sh->n_in; i++)
    c->x[i] = rng_unit(&seed);
  for (size_t i = 0; i < (size_t)n * sh->n_out; i++)
    c->y[i] = 0.5f + 0.45f * rng_unit(&seed);
  for (int i = 0; i < n; i++)
    c->labels[i] = (int32_t)rng_below(&seed, (uint32_t)sh->n_out);
  return 0;
}

/* samples [from, from + n) as a batch */
static mlp_batch case_batch(const cf_case *c, int from, int n) {
  return (mlp_batch){.x = c->x + (size_t)from * c->spec.n_in,
                     .y = c->spec.loss == MLP_LOSS_SIGMOID_SE ? c->y + (size_t)from * c->spec.n_out
                                                              : NULL,
                     .labels = c->spec.loss == MLP_LOSS_SOFTMAX_CE ? c->labels + from : NULL,
                     .n = n};
}

/* ---- float64 ---- */
static int ref_grad(const cf_case *c, const float *params, const mlp_batch *b, double *loss,
                    double *g) {
  double *p = malloc(sizeof(double) * c->np);
  if (!p) return -1;
  for (size_t i = 0; i < c->np; i++)
    p[i] = params[i];
  int rc = ref64_loss_grad(&c->spec, p, b, loss, g, NULL);
  free(p);
  return rc;
}

/* One optimizer step in float64 (PyTorch's SGD and Adam); m, v, t: Adam's state. */
static void ref_step(const mlp_spec *s, double *p, const double *g, double *m, double *v, long *t,
                     size_t n) {
  if (s->opt == MLP_OPT_SGD) {
    for (size_t i = 0; i < n; i++)
      p[i] -= (double)s->lr * g[i];
    return;
  }
  ++*t;
  double step = s->lr / (1.0 - pow(s->beta1, (double)*t));
  double bc2 = sqrt(1.0 - pow(s->beta2, (double)*t));
  for (size_t i = 0; i < n; i++) {
    m[i] = s->beta1 * m[i] + (1.0 - s->beta1) * g[i];
    v[i] = s->beta2 * v[i] + (1.0 - s->beta2) * g[i] * g[i];
    p[i] -= step * m[i] / (sqrt(v[i]) / bc2 + s->eps);
  }
}

/* ---- the checks ---- */
typedef struct {
  const mlp_backend *be;
  mlp_options opt; /* the code path and FTZ setting under check */
  char msg[512];   /* FAILED's, NOT SUPPORTED's or SKIPPED's reason, or PASSED's detail */
} cf_run;

typedef cf_status (*cf_fn)(cf_run *r, const cf_shape *sh);

static cf_status fail(cf_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cf_status fail(cf_run *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
  return CF_FAILED;
}

static void *open_ctx(cf_run *r, const cf_case *c) {
  char err[320] = "";
  be_handle h;
  if (be_open(&h, r->be, &c->spec, &r->opt, err, sizeof err))
    fail(r, "create (%d-%d-%d, batch %d) failed: %s", c->spec.n_in, c->spec.n_hidden, c->spec.n_out,
         c->spec.max_batch, err);
  return h.ctx;
}

/* The loss and the four tensors of g against ref, by gradcheck's judge and fp32's tolerance;
 * a failure names every part out of it. */
static int judge_grads(cf_run *r, const cf_case *c, const float *g, const double *ref, float loss,
                       double ref_loss, const char *what) {
  gc_tol tol = gc_tol_fp32();
  gc_result res;
  gc_judge(&c->spec, g, loss, ref_loss, ref, &tol, &res);
  if (res.pass) return 0;
  char text[384];
  gc_failure_text(&res, text, sizeof text);
  fail(r, "%s: %s", what, text);
  return -1;
}

#define CALL(expr, what)                                                                           \
  do {                                                                                             \
    if ((expr) != 0) {                                                                             \
      fail(r, "%s failed: %s", what, r->be->error(ctx));                                           \
      goto done;                                                                                   \
    }                                                                                              \
  } while (0)

/* "13-17-10 relu softmax-CE, batch 33": what PASSED and FAILED lines show of a check */
static void shape_text(const cf_shape *sh, char *buf, size_t len) {
  snprintf(buf, len, "%d-%d-%d %s %s, batch %d%s", sh->n_in, sh->n_hidden, sh->n_out,
           sh->act == MLP_ACT_RELU ? "relu" : "sigmoid",
           sh->loss == MLP_LOSS_SOFTMAX_CE ? "softmax-CE" : "sigmoid-SE", sh->batch,
           sh->batch < sh->max_batch ? " (short, after a full one)" : "");
}

/* Gradients and loss of one batch (after a full one when the shape's batch is short), and
 * forward's outputs, against float64. */
static cf_status chk_grad(cf_run *r, const cf_shape *sh) {
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL;
  double *ref = NULL, ref_loss, *out_d = NULL;
  float *g = NULL, *out = NULL, loss = 0;
  if (case_make(&c, sh, MLP_OPT_SGD, sh->max_batch + sh->batch, 11) ||
      !(ref = malloc(sizeof(double) * c.np)) || !(g = malloc(sizeof(float) * c.np)) ||
      !(out = malloc(sizeof(float) * (size_t)sh->batch * sh->n_out)) ||
      !(out_d = malloc(sizeof(double) * (size_t)sh->batch * sh->n_out))) {
    fail(r, "out of memory");
    goto done;
  }
  if (!(ctx = open_ctx(r, &c))) goto done;
  mlp_batch full = case_batch(&c, 0, sh->max_batch), b = case_batch(&c, sh->max_batch, sh->batch);
  CALL(r->be->set_params(ctx, c.params), "set_params");
  if (sh->batch < sh->max_batch) { /* a full batch first, so a short one follows it */
    CALL(r->be->forward_backward(ctx, &full, NULL), "forward_backward (full batch)");
    CALL(r->be->zero_grads(ctx), "zero_grads");
  }
  CALL(r->be->forward_backward(ctx, &b, &loss), "forward_backward");
  CALL(r->be->get_grads(ctx, g), "get_grads");
  if (ref_grad(&c, c.params, &b, &ref_loss, ref)) {
    fail(r, "out of memory");
    goto done;
  }
  if (judge_grads(r, &c, g, ref, loss, ref_loss, "one batch")) goto done;
  CALL(r->be->forward(ctx, b.x, b.n, out), "forward");
  for (size_t i = 0; i < c.np; i++) /* the float64 forward takes double weights */
    ref[i] = c.params[i];
  if (ref64_forward(&c.spec, ref, b.x, b.n, out_d)) {
    fail(r, "out of memory");
    goto done;
  }
  double e = gc_rel_l2(out, out_d, (size_t)b.n * sh->n_out);
  if (!(e <= GC_TOL_FP32)) {
    fail(r, "forward: outputs' relative L2 error %.2e > %.0e", e, GC_TOL_FP32);
    goto done;
  }
  shape_text(sh, r->msg, sizeof r->msg);
  st = CF_PASSED;
done:
  if (ctx) r->be->destroy(ctx);
  free(ref), free(g), free(out), free(out_d);
  case_free(&c);
  return st;
}

/* Two batches: with zero_grads between them (only the second's gradients), or without
 * (--no-zero-grad: their sum, PyTorch's accumulation). */
static cf_status two_batches(cf_run *r, const cf_shape *sh, int zero_between) {
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL;
  double *ref = NULL, *ref2 = NULL, l1, l2;
  float *g = NULL, loss = 0;
  if (case_make(&c, sh, MLP_OPT_SGD, 2 * sh->batch, 12) || !(ref = malloc(sizeof(double) * c.np)) ||
      !(ref2 = malloc(sizeof(double) * c.np)) || !(g = malloc(sizeof(float) * c.np))) {
    fail(r, "out of memory");
    goto done;
  }
  if (!(ctx = open_ctx(r, &c))) goto done;
  mlp_batch b1 = case_batch(&c, 0, sh->batch), b2 = case_batch(&c, sh->batch, sh->batch);
  CALL(r->be->set_params(ctx, c.params), "set_params");
  CALL(r->be->zero_grads(ctx), "zero_grads");
  CALL(r->be->forward_backward(ctx, &b1, NULL), "forward_backward (first batch)");
  if (zero_between) CALL(r->be->zero_grads(ctx), "zero_grads");
  CALL(r->be->forward_backward(ctx, &b2, &loss), "forward_backward (second batch)");
  CALL(r->be->get_grads(ctx, g), "get_grads");
  if (ref_grad(&c, c.params, &b1, &l1, ref) || ref_grad(&c, c.params, &b2, &l2, ref2)) {
    fail(r, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < c.np; i++)
    ref2[i] += zero_between ? 0.0 : ref[i];
  if (judge_grads(r, &c, g, ref2, loss, l2,
                  zero_between ? "zero_grads between two batches: only the second's gradients"
                               : "no zero_grads between two batches: the sum of both"))
    goto done;
  snprintf(r->msg, sizeof r->msg, "%s", zero_between ? "zero_grads clears" : "gradients add up");
  st = CF_PASSED;
done:
  if (ctx) r->be->destroy(ctx);
  free(ref), free(ref2), free(g);
  case_free(&c);
  return st;
}
static cf_status chk_zero_grads(cf_run *r, const cf_shape *sh) {
  return two_batches(r, sh, 1);
}
static cf_status chk_accumulate(cf_run *r, const cf_shape *sh) {
  return two_batches(r, sh, 0);
}

/* `steps` optimizer steps; each update (new params less old) against float64's update from
 * the same params, with float64's gradients there and float64's own optimizer state. */
static cf_status opt_steps(cf_run *r, const cf_shape *sh, mlp_opt opt, int steps) {
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL;
  double *g = NULL, *m = NULL, *v = NULL, *p = NULL, loss;
  float *before = NULL, *after = NULL;
  long t = 0;
  if (case_make(&c, sh, opt, sh->batch * steps, 13) || !(g = malloc(sizeof(double) * c.np)) ||
      !(m = calloc(c.np, sizeof(double))) || !(v = calloc(c.np, sizeof(double))) ||
      !(p = malloc(sizeof(double) * c.np)) || !(before = malloc(sizeof(float) * c.np)) ||
      !(after = malloc(sizeof(float) * c.np))) {
    fail(r, "out of memory");
    goto done;
  }
  if (!(ctx = open_ctx(r, &c))) goto done;
  CALL(r->be->set_params(ctx, c.params), "set_params");
  for (int s = 0; s < steps; s++) {
    mlp_batch b = case_batch(&c, s * sh->batch, sh->batch);
    CALL(r->be->get_params(ctx, before), "get_params");
    CALL(r->be->zero_grads(ctx), "zero_grads");
    CALL(r->be->forward_backward(ctx, &b, NULL), "forward_backward");
    CALL(r->be->step(ctx), "step");
    CALL(r->be->get_params(ctx, after), "get_params");
    if (ref_grad(&c, before, &b, &loss, g)) {
      fail(r, "out of memory");
      goto done;
    }
    for (size_t i = 0; i < c.np; i++)
      p[i] = before[i];
    ref_step(&c.spec, p, g, m, v, &t, c.np);
    double d = 0, n = 0; /* the update's error, relative to the update */
    for (size_t i = 0; i < c.np; i++) {
      double want = p[i] - before[i], got = (double)after[i] - before[i];
      d += (got - want) * (got - want);
      n += want * want;
    }
    double e = sqrt(d) / (sqrt(n) + 1e-30);
    if (!(e <= CF_TOL_STEP)) {
      /* no guess at the cause: the update alone cannot tell a wrong moment from a wrong
       * gradient or step count */
      fail(r, "%s step %d: the update's relative L2 error against float64 is %.2e > %.0e",
           opt == MLP_OPT_ADAM ? "Adam" : "SGD", s + 1, e, CF_TOL_STEP);
      goto done;
    }
  }
  snprintf(r->msg, sizeof r->msg, "%d %s step%s match float64", steps,
           opt == MLP_OPT_ADAM ? "Adam" : "SGD", steps > 1 ? "s" : "");
  st = CF_PASSED;
done:
  if (ctx) r->be->destroy(ctx);
  free(g), free(m), free(v), free(p), free(before), free(after);
  case_free(&c);
  return st;
}
static cf_status chk_sgd(cf_run *r, const cf_shape *sh) {
  return opt_steps(r, sh, MLP_OPT_SGD, 2);
}
static cf_status chk_adam(cf_run *r, const cf_shape *sh) {
  return opt_steps(r, sh, MLP_OPT_ADAM, 3);
}

/* The reference itself: float64 gradients against gradcheck's finite differences (Richardson,
 * each entry within its own bound: gradcheck.h), on a sigmoid net so that no ReLU kink sits
 * under a perturbation. Judges mlpbench, not the backend. */
#define CF_FD_PER_TENSOR 8
static cf_status chk_fd(cf_run *r, const cf_shape *sh) {
  cf_case c;
  cf_status st = CF_FAILED;
  double *g = NULL, loss;
  gc_fd_result fd;
  if (case_make(&c, sh, MLP_OPT_SGD, sh->batch, 14) || !(g = malloc(sizeof(double) * c.np))) {
    fail(r, "out of memory");
    goto done;
  }
  mlp_batch b = case_batch(&c, 0, sh->batch);
  if (ref_grad(&c, c.params, &b, &loss, g) ||
      gc_finite_differences(&c.spec, c.params, &b, g, CF_FD_PER_TENSOR, 5, &fd)) {
    fail(r, "out of memory");
    goto done;
  }
  if (!fd.pass) {
    fail(r,
         "the float64 reference disagrees with finite differences: %d entries checked, the "
         "worst at %.2f of its bound (pass: at most 1)",
         fd.checked, fd.max_ratio);
    goto done;
  }
  snprintf(r->msg, sizeof r->msg,
           "%d entries within their finite-difference bounds, the worst at %.2f of its bound",
           fd.checked, fd.max_ratio);
  st = CF_PASSED;
done:
  free(g);
  case_free(&c);
  return st;
}

/* Trains ctx per step over idx (batches of `batch`, the last one shorter), as train_steps
 * would: the harness's own loop, gathering each batch. *mean: the mean batch loss. */
static int per_step(const mlp_backend *be, void *ctx, const cf_case *c, const int32_t *idx,
                    int n_idx, int batch, int zero_grad, double *mean) {
  const mlp_spec *s = &c->spec;
  float *x = malloc(sizeof(float) * (size_t)batch * s->n_in);
  float *y = malloc(sizeof(float) * (size_t)batch * s->n_out);
  int32_t *l = malloc(sizeof(int32_t) * (size_t)batch);
  int rc = (!x || !y || !l) ? -1 : 0, steps = 0;
  *mean = 0;
  for (int at = 0; !rc && at < n_idx; at += batch, steps++) {
    int n = n_idx - at < batch ? n_idx - at : batch;
    for (int k = 0; k < n; k++) {
      int i = idx[at + k];
      memcpy(x + (size_t)k * s->n_in, c->x + (size_t)i * s->n_in, sizeof(float) * s->n_in);
      memcpy(y + (size_t)k * s->n_out, c->y + (size_t)i * s->n_out, sizeof(float) * s->n_out);
      l[k] = c->labels[i];
    }
    mlp_batch b = {.x = x,
                   .y = s->loss == MLP_LOSS_SIGMOID_SE ? y : NULL,
                   .labels = s->loss == MLP_LOSS_SOFTMAX_CE ? l : NULL,
                   .n = n};
    float loss = 0;
    rc = (zero_grad && be->zero_grads(ctx)) || be->forward_backward(ctx, &b, &loss) || be->step(ctx)
             ? -1
             : 0;
    *mean += loss;
  }
  if (steps) *mean /= steps;
  free(x), free(y), free(l);
  return rc;
}

static void shuffle(int32_t *idx, int n, rng_t *seed) {
  for (int i = 0; i < n; i++)
    idx[i] = i;
  rng_shuffle_i32(seed, idx, n);
}

/* set_dataset + train_steps against the per-step path on another context: the same epoch
 * (shuffled, a short last batch), with and without zero_grad. */
static cf_status resident(cf_run *r, const cf_shape *sh, int zero_grad) {
  const mlp_backend *be = r->be;
  if (!be_offers(be, BE_RESIDENT)) {
    snprintf(r->msg, sizeof r->msg, "no set_dataset/train_steps slots");
    return CF_NOT_SUPPORTED;
  }
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL, *ref = NULL;
  int32_t *idx = NULL;
  float *pa = NULL, *pb = NULL;
  rng_t seed;
  rng_seed(&seed, 21, RNG_STREAM_BATCHES);
  const int n = 3 * sh->batch + sh->batch / 2;
  if (case_make(&c, sh, MLP_OPT_SGD, n, 15) || !(idx = malloc(sizeof(int32_t) * n)) ||
      !(pa = malloc(sizeof(float) * c.np)) || !(pb = malloc(sizeof(float) * c.np))) {
    fail(r, "out of memory");
    goto done;
  }
  shuffle(idx, n, &seed);
  if (!(ctx = open_ctx(r, &c)) || !(ref = open_ctx(r, &c))) goto done;
  CALL(be->set_params(ctx, c.params), "set_params");
  be_handle h = {.be = be, .ctx = ctx, .spec = c.spec};
  int decl = be_set_dataset(&h, c.x, sh->loss == MLP_LOSS_SOFTMAX_CE ? c.labels : NULL,
                            sh->loss == MLP_LOSS_SIGMOID_SE ? c.y : NULL, n);
  if (decl == 1) {
    snprintf(r->msg, sizeof r->msg, "set_dataset declined this spec");
    st = CF_NOT_SUPPORTED;
    goto done;
  }
  CALL(decl, "set_dataset");
  mlp_steps_out out = {0};
  double mean = 0;
  CALL(be_train_steps(&h, idx, n, sh->batch, zero_grad, &out), "train_steps");
  CALL(be_sync(&h), "sync");
  CALL(be->get_params(ctx, pa), "get_params");
  CALL(be->set_params(ref, c.params), "set_params");
  if (per_step(be, ref, &c, idx, n, sh->batch, zero_grad, &mean)) {
    fail(r, "the per-step path failed: %s", be->error(ref));
    goto done;
  }
  CALL(be->get_params(ref, pb), "get_params");
  double d = 0, u = 0;
  for (size_t i = 0; i < c.np; i++) {
    d += ((double)pa[i] - pb[i]) * ((double)pa[i] - pb[i]);
    u += ((double)pb[i] - c.params[i]) * ((double)pb[i] - c.params[i]);
  }
  double e = sqrt(d) / (sqrt(u) + 1e-30), le = fabs(out.mean_loss - mean) / (fabs(mean) + 1e-30);
  if (!(e <= CF_TOL_STEP) || !(le <= CF_TOL_STEP)) {
    fail(r, "train_steps against per-step: updates differ by %.2e, mean loss by %.2e (> %.0e)", e,
         le, CF_TOL_STEP);
    goto done;
  }
  snprintf(r->msg, sizeof r->msg, "%d samples, batch %d, zero_grad %d: updates within %.1e", n,
           sh->batch, zero_grad, e);
  st = CF_PASSED;
done:
  if (ctx) be->destroy(ctx);
  if (ref) be->destroy(ref);
  free(idx), free(pa), free(pb);
  case_free(&c);
  return st;
}
static cf_status chk_resident(cf_run *r, const cf_shape *sh) {
  return resident(r, sh, 1);
}
static cf_status chk_resident_nozero(cf_run *r, const cf_shape *sh) {
  return resident(r, sh, 0);
}

/* A separable problem: labels from a random teacher, so training has a curve to follow. */
static void teach(cf_case *c, uint64_t seed_) {
  rng_t seed;
  rng_seed(&seed, seed_, RNG_STREAM_DATA);
  const mlp_spec *s = &c->spec;
  for (int b = 0; b < c->n; b++) {
    int best = 0;
    double bv = -INFINITY;
    rng_t t = seed;
    for (int k = 0; k < s->n_out; k++) {
      double z = 0;
      for (int i = 0; i < s->n_in; i++)
        z += c->x[(size_t)b * s->n_in + i] * rng_unit(&t);
      if (z > bv) bv = z, best = k;
    }
    c->labels[b] = best;
  }
}

/* float64 training over the same epochs (orders: epochs x n indices, batches of `batch`):
 * per epoch the mean batch loss; the params end in p */
static int ref_train(const cf_case *c, double *p, const int32_t *orders, int epochs, int batch,
                     double *curve) {
  const mlp_spec *s = &c->spec;
  double *g = malloc(sizeof(double) * c->np), *m = calloc(c->np, sizeof(double));
  double *v = calloc(c->np, sizeof(double));
  float *x = malloc(sizeof(float) * (size_t)batch * s->n_in);
  int32_t *l = malloc(sizeof(int32_t) * (size_t)batch);
  long t = 0;
  int rc = (!g || !m || !v || !x || !l) ? -1 : 0, steps = (c->n + batch - 1) / batch;
  for (int e = 0; !rc && e < epochs; e++) {
    curve[e] = 0;
    for (int at = 0; !rc && at < c->n; at += batch) {
      int n = c->n - at < batch ? c->n - at : batch;
      for (int k = 0; k < n; k++) {
        int i = orders[(size_t)e * c->n + at + k];
        memcpy(x + (size_t)k * s->n_in, c->x + (size_t)i * s->n_in, sizeof(float) * s->n_in);
        l[k] = c->labels[i];
      }
      mlp_batch b = {.x = x, .labels = l, .n = n};
      double loss;
      if (!(rc = ref64_loss_grad(s, p, &b, &loss, g, NULL))) {
        ref_step(s, p, g, m, v, &t, c->np);
        curve[e] += loss / steps;
      }
    }
  }
  free(g), free(m), free(v), free(x), free(l);
  return rc;
}

/* Accuracy of n samples' argmax against labels: p (n, n_out) in float or double. */
static double accuracy_f(const float *o, const int32_t *y, int n, int k) {
  int ok = 0;
  for (int b = 0; b < n; b++) {
    int best = 0;
    for (int j = 1; j < k; j++)
      if (o[(size_t)b * k + j] > o[(size_t)b * k + best]) best = j;
    ok += best == y[b];
  }
  return (double)ok / n;
}
static double accuracy_d(const double *o, const int32_t *y, int n, int k) {
  int ok = 0;
  for (int b = 0; b < n; b++) {
    int best = 0;
    for (int j = 1; j < k; j++)
      if (o[(size_t)b * k + j] > o[(size_t)b * k + best]) best = j;
    ok += best == y[b];
  }
  return (double)ok / n;
}

#define CURVE_EPOCHS 8

/* A few epochs of Adam, shuffled, with a short last batch: each epoch's mean loss and the
 * final accuracy against float64 training on the same batches (MLPerf's convergence check in
 * small: single steps can pass while an optimizer drifts). */
static cf_status chk_curve(cf_run *r, const cf_shape *sh) {
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL;
  int32_t *orders = NULL;
  double *p = NULL, *od = NULL, curve[CURVE_EPOCHS], got[CURVE_EPOCHS];
  float *of = NULL;
  rng_t seed;
  rng_seed(&seed, 31, RNG_STREAM_BATCHES);
  const int n = 6 * sh->batch + sh->batch / 2;
  if (case_make(&c, sh, MLP_OPT_ADAM, n, 16) ||
      !(orders = malloc(sizeof(int32_t) * (size_t)n * CURVE_EPOCHS)) ||
      !(p = malloc(sizeof(double) * c.np)) ||
      !(od = malloc(sizeof(double) * (size_t)n * sh->n_out)) ||
      !(of = malloc(sizeof(float) * (size_t)n * sh->n_out))) {
    fail(r, "out of memory");
    goto done;
  }
  teach(&c, 99);
  for (int e = 0; e < CURVE_EPOCHS; e++)
    shuffle(orders + (size_t)e * n, n, &seed);
  if (!(ctx = open_ctx(r, &c))) goto done;
  CALL(r->be->set_params(ctx, c.params), "set_params");
  for (int e = 0; e < CURVE_EPOCHS; e++)
    if (per_step(r->be, ctx, &c, orders + (size_t)e * n, n, sh->batch, 1, &got[e])) {
      fail(r, "epoch %d failed: %s", e + 1, r->be->error(ctx));
      goto done;
    }
  for (size_t i = 0; i < c.np; i++)
    p[i] = c.params[i];
  if (ref_train(&c, p, orders, CURVE_EPOCHS, sh->batch, curve)) {
    fail(r, "out of memory");
    goto done;
  }
  for (int e = 0; e < CURVE_EPOCHS; e++) {
    double rel = fabs(got[e] - curve[e]) / (fabs(curve[e]) + 1e-30);
    if (!(rel <= CF_TOL_CURVE)) {
      fail(r, "epoch %d: mean loss %.6g, float64 %.6g (relative %.2e > %.0e)", e + 1, got[e],
           curve[e], rel, CF_TOL_CURVE);
      goto done;
    }
  }
  CALL(r->be->forward(ctx, c.x, n, of), "forward");
  if (ref64_forward(&c.spec, p, c.x, n, od)) {
    fail(r, "out of memory");
    goto done;
  }
  double af = accuracy_f(of, c.labels, n, sh->n_out), ad = accuracy_d(od, c.labels, n, sh->n_out);
  if (!(fabs(af - ad) <= CF_TOL_ACC)) {
    fail(r, "accuracy after %d epochs %.3f, float64 %.3f (> %.2f apart)", CURVE_EPOCHS, af, ad,
         CF_TOL_ACC);
    goto done;
  }
  snprintf(r->msg, sizeof r->msg,
           "%d epochs of Adam: loss %.4f -> %.4f (float64 %.4f), accuracy %.3f (float64 %.3f)",
           CURVE_EPOCHS, got[0], got[CURVE_EPOCHS - 1], curve[CURVE_EPOCHS - 1], af, ad);
  st = CF_PASSED;
done:
  if (ctx) r->be->destroy(ctx);
  free(orders), free(p), free(od), free(of);
  case_free(&c);
  return st;
}

/* The same short run twice on fresh contexts: bitwise equal or not, a property reported. */
static cf_status chk_determinism(cf_run *r, const cf_shape *sh) {
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL;
  int32_t *idx = NULL;
  float *p[2] = {NULL, NULL};
  rng_t seed;
  rng_seed(&seed, 41, RNG_STREAM_BATCHES);
  const int n = 4 * sh->batch;
  double mean;
  if (case_make(&c, sh, MLP_OPT_ADAM, n, 17) || !(idx = malloc(sizeof(int32_t) * n)) ||
      !(p[0] = malloc(sizeof(float) * c.np)) || !(p[1] = malloc(sizeof(float) * c.np))) {
    fail(r, "out of memory");
    goto done;
  }
  shuffle(idx, n, &seed);
  for (int k = 0; k < 2; k++) {
    if (!(ctx = open_ctx(r, &c))) goto done;
    CALL(r->be->set_params(ctx, c.params), "set_params");
    if (per_step(r->be, ctx, &c, idx, n, sh->batch, 1, &mean)) {
      fail(r, "training failed: %s", r->be->error(ctx));
      goto done;
    }
    CALL(r->be->get_params(ctx, p[k]), "get_params");
    r->be->destroy(ctx);
    ctx = NULL;
  }
  double worst = 0;
  for (size_t i = 0; i < c.np; i++)
    worst = fmax(worst, fabs((double)p[0][i] - p[1][i]));
  if (memcmp(p[0], p[1], sizeof(float) * c.np) == 0)
    snprintf(r->msg, sizeof r->msg, "property: bitwise deterministic (two runs of 4 steps)");
  else
    snprintf(r->msg, sizeof r->msg,
             "property: NOT bitwise deterministic (two runs of 4 steps differ by up to %.2e); "
             "not a failure",
             worst);
  st = CF_PASSED;
done:
  if (ctx) r->be->destroy(ctx);
  free(idx), free(p[0]), free(p[1]);
  case_free(&c);
  return st;
}

/* The optional slots without a float64 answer: present and returning 0, or absent. */
static cf_status chk_floor(cf_run *r, const cf_shape *sh) {
  if (!be_offers(r->be, BE_GEMM_FLOOR)) {
    snprintf(r->msg, sizeof r->msg, "no gemm_floor slot (no floor column in bench)");
    return CF_NOT_SUPPORTED;
  }
  cf_case c;
  cf_status st = CF_FAILED;
  void *ctx = NULL;
  double sec = 0;
  if (case_make(&c, sh, MLP_OPT_SGD, sh->batch, 18)) {
    fail(r, "out of memory");
    goto done;
  }
  if (!(ctx = open_ctx(r, &c))) goto done;
  be_handle h = {.be = r->be, .ctx = ctx, .spec = c.spec};
  CALL(be_gemm_floor(&h, sh->batch, 2, &sec), "gemm_floor");
  CALL(r->be->set_params(ctx, c.params), "set_params after gemm_floor");
  CALL(be_sync(&h), "sync");
  snprintf(r->msg, sizeof r->msg, "gemm_floor(batch %d, 2 steps) returns 0%s", sh->batch,
           be_offers(r->be, BE_SYNC) ? "; sync returns 0" : "");
  st = CF_PASSED;
done:
  if (ctx) r->be->destroy(ctx);
  case_free(&c);
  return st;
}

/* ---- the table ---- */
enum { S_TOY, S_ODD, S_SHORT, S_H1, S_H4096, S_NOUT1, S_SE10, S_SIGCE, S_FD, S_TRAIN };
static const cf_shape shapes[] = {
    [S_TOY] = {"toy", 4, 3, 1, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE, 1, 1},
    [S_ODD] = {"odd", 13, 17, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE, 33, 33},
    [S_SHORT] = {"short", 9, 6, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE, 5, 16},
    [S_H1] = {"h1", 5, 1, 10, MLP_ACT_SIGMOID, MLP_LOSS_SOFTMAX_CE, 8, 8},
    [S_H4096] = {"h4096", 8, 4096, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE, 4, 4},
    [S_NOUT1] = {"nout1", 9, 6, 1, MLP_ACT_RELU, MLP_LOSS_SIGMOID_SE, 7, 7},
    [S_SE10] = {"se10", 6, 11, 10, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE, 5, 5},
    [S_SIGCE] = {"sigce", 13, 17, 10, MLP_ACT_SIGMOID, MLP_LOSS_SOFTMAX_CE, 12, 12},
    [S_FD] = {"fd", 5, 4, 3, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE, 6, 6},
    [S_TRAIN] = {"train", 12, 16, 4, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE, 16, 16},
};

static const struct {
  const char *name;
  cf_fn fn;
  int shape;
} checks[] = {
    {"grad-batch1", chk_grad, S_TOY},
    {"grad-odd-sizes", chk_grad, S_ODD},
    {"grad-short-batch", chk_grad, S_SHORT},
    {"grad-hidden1", chk_grad, S_H1},
    {"grad-hidden4096", chk_grad, S_H4096},
    {"grad-nout1-se", chk_grad, S_NOUT1},
    {"grad-nout10-se", chk_grad, S_SE10},
    {"reference-fd", chk_fd, S_FD},
    {"zero-grads", chk_zero_grads, S_ODD},
    {"no-zero-grad", chk_accumulate, S_ODD},
    {"sgd-steps", chk_sgd, S_ODD},
    {"adam-steps-se", chk_adam, S_SE10},
    {"adam-steps-ce", chk_adam, S_SIGCE},
    {"resident", chk_resident, S_TRAIN},
    {"resident-no-zero-grad", chk_resident_nozero, S_TRAIN},
    {"train-curve", chk_curve, S_TRAIN},
    {"determinism", chk_determinism, S_ODD},
    {"gemm-floor", chk_floor, S_ODD},
};
#define N_CHECKS ((int)(sizeof checks / sizeof checks[0]))

int conform_count(void) {
  return N_CHECKS;
}
const char *conform_name(int i) {
  return checks[i].name;
}
int conform_find(const char *name) {
  for (int i = 0; i < N_CHECKS; i++)
    if (strcmp(checks[i].name, name) == 0) return i;
  return -1;
}

const char *conform_status_word(cf_status s) {
  static const char *w[] = {"PASSED", "FAILED", "NOT SUPPORTED", "SKIPPED"};
  return s >= CF_PASSED && s <= CF_SKIPPED ? w[s] : "?";
}

int conform_run(const mlp_backend *be, int i, const mlp_options *opt, FILE *f) {
  char why[256];
  cf_run r = {.be = be, .opt = *opt};
  cp_send_start(f, i);
  cf_status st = be_available(be, why, sizeof why)
                     ? checks[i].fn(&r, &shapes[checks[i].shape])
                     : (snprintf(r.msg, sizeof r.msg, "unavailable: %s", why), CF_SKIPPED);
  if (st == CF_FAILED) { /* the model and batch it failed on, as a PASSED line shows them */
    char shape[160], msg[sizeof r.msg + sizeof shape + 2];
    shape_text(&shapes[checks[i].shape], shape, sizeof shape);
    snprintf(msg, sizeof msg, "%s: %s", shape, r.msg);
    cp_send_result(f, i, st, msg);
  } else {
    cp_send_result(f, i, st, r.msg);
  }
  return st == CF_FAILED;
}
