/* test_backends.c: every available backend, on each of its code paths, against the float64
 * reference on random shapes (batch 1 to 1024, hidden 1 to 4096, odd widths, n_out 1),
 * gradient accumulation, Adam against its formula, and the resident slots (set_dataset +
 * train_steps) against the per-step calls, short last batch and no zero_grad included. */
#include <math.h>
#include <stdlib.h>

#include "../harness/backends/registry.h"
#include "../harness/check/gradcheck.h"
#include "../harness/check/ref64.h"
#include "../harness/output/report.h"
#include "../workloads/rng.h"
#include "../workloads/workload.h"
#include "t.h"
#include "t_variants.h"

typedef struct {
  int B, I, H, O;
  mlp_act act;
  mlp_loss loss;
} shape;

static const shape shapes[] = {
    {1, 784, 500, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},
    {128, 784, 500, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},
    {3, 4, 3, 1, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE},
    {7, 13, 17, 1, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE},
    {33, 65, 1, 3, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},
    {1, 1, 1, 1, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE},
    {129, 31, 257, 10, MLP_ACT_SIGMOID, MLP_LOSS_SOFTMAX_CE},
    {64, 100, 63, 2, MLP_ACT_RELU, MLP_LOSS_SIGMOID_SE},
    {1024, 784, 17, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE}, /* the largest batch */
    {5, 20, 4096, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},   /* the widest hidden layer */
};

typedef struct {
  mlp_spec spec;
  float *x, *y, *params;
  int32_t *labels;
  mlp_batch b;
} problem;

static void problem_make(problem *p, const shape *s, uint64_t seed) {
  rng_t r;
  rng_seed(&r, seed, 9);
  p->spec = (mlp_spec){.n_in = s->I,
                       .n_hidden = s->H,
                       .n_out = s->O,
                       .act = s->act,
                       .loss = s->loss,
                       .opt = MLP_OPT_ADAM,
                       .lr = 1e-3f,
                       .beta1 = 0.9f,
                       .beta2 = 0.999f,
                       .eps = 1e-8f,
                       .max_batch = s->B};
  size_t n = mlp_param_count(&p->spec);
  p->x = malloc((size_t)s->B * s->I * sizeof(float));
  p->y = malloc((size_t)s->B * s->O * sizeof(float));
  p->labels = malloc((size_t)s->B * sizeof(int32_t));
  p->params = malloc(n * sizeof(float));
  for (int i = 0; i < s->B * s->I; i++)
    p->x[i] = rng_uniform(&r);
  for (int i = 0; i < s->B * s->O; i++)
    p->y[i] = rng_uniform(&r) < 0.5f ? 0.0f : 1.0f;
  for (int i = 0; i < s->B; i++)
    p->labels[i] = (int32_t)rng_below(&r, (uint32_t)s->O);
  float k = 1.0f / sqrtf((float)s->I);
  for (size_t i = 0; i < n; i++)
    p->params[i] = (2.0f * rng_uniform(&r) - 1.0f) * k;
  p->b = (mlp_batch){.x = p->x, .y = p->y, .labels = p->labels, .n = s->B};
}

static void problem_free(problem *p) {
  free(p->x);
  free(p->y);
  free(p->labels);
  free(p->params);
}

static double rel_l2(const float *a, const double *b, size_t n) {
  double se = 0, sr = 0;
  for (size_t i = 0; i < n; i++) {
    se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    sr += b[i] * b[i];
  }
  return sr > 0 ? sqrt(se / sr) : sqrt(se);
}

static const mlp_options opts = {.threads = 0, .ftz = 1};
static t_variant vars[T_MAX_VARIANTS];
static int n_vars;

static void test_gradients_match_reference(void) {
  for (int vi = 0; vi < n_vars; vi++) {
    const mlp_backend *be = vars[vi].be;
    const mlp_options *o = &vars[vi].opt;
    const char *name = vars[vi].label;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
      problem p;
      problem_make(&p, &shapes[si], 100 + si);
      size_t n = mlp_param_count(&p.spec);
      double *ref = malloc(n * sizeof(double)), *pd = malloc(n * sizeof(double)), loss_ref;
      float *g = malloc(n * sizeof(float)), loss = 0;
      for (size_t i = 0; i < n; i++)
        pd[i] = p.params[i];
      T_CHECK(ref64_loss_grad(&p.spec, pd, &p.b, &loss_ref, ref, NULL) == 0, "ref64");
      char err[256];
      void *ctx = be->create(be, &p.spec, o, err, sizeof err);
      T_CHECK(ctx != NULL, "%s: %s", name, err);
      if (ctx) {
        be->set_params(ctx, p.params);
        be->zero_grads(ctx);
        T_CHECK(be->forward_backward(ctx, &p.b, &loss) == 0, "%s", be->error(ctx));
        be->get_grads(ctx, g);
        double e = rel_l2(g, ref, n), le = fabs(loss - loss_ref) / fmax(fabs(loss_ref), 1e-30);
        T_CHECK(e <= GC_TOL_FP32 && le <= GC_TOL_FP32,
                "%s shape %zu (%d,%d,%d,%d): grad rel %.2e loss rel %.2e", name, si, shapes[si].B,
                shapes[si].I, shapes[si].H, shapes[si].O, e, le);
        be->destroy(ctx);
      }
      free(ref);
      free(pd);
      free(g);
      problem_free(&p);
    }
  }
}

/* forward_backward adds into the gradients; zero_grads clears them. */
static void test_gradient_accumulation(void) {
  for (int vi = 0; vi < n_vars; vi++) {
    const mlp_backend *be = vars[vi].be;
    const mlp_options *o = &vars[vi].opt;
    const char *name = vars[vi].label;
    char why[256];
    problem p;
    problem_make(&p, &shapes[4], 7);
    size_t n = mlp_param_count(&p.spec);
    float *g1 = malloc(n * sizeof(float)), *g2 = malloc(n * sizeof(float));
    void *ctx = be->create(be, &p.spec, o, why, sizeof why);
    be->set_params(ctx, p.params);
    be->zero_grads(ctx);
    be->forward_backward(ctx, &p.b, NULL);
    be->get_grads(ctx, g1);
    be->forward_backward(ctx, &p.b, NULL);
    be->get_grads(ctx, g2);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
      worst = fmax(worst, fabs(g2[i] - 2 * g1[i]) / fmax(fabs(g1[i]), 1e-6));
    T_CHECK(worst < 1e-5, "%s: second pass should double the gradient (worst %.2e)", name, worst);
    be->zero_grads(ctx);
    be->get_grads(ctx, g2);
    int all_zero = 1;
    for (size_t i = 0; i < n; i++)
      all_zero &= g2[i] == 0.0f;
    T_CHECK(all_zero, "%s: zero_grads left non-zero gradients", name);
    be->destroy(ctx);
    free(g1);
    free(g2);
    problem_free(&p);
  }
}

/* Two Adam steps: the backend's parameters against Adam's formula written out in double. */
static void test_adam_steps(void) {
  for (int vi = 0; vi < n_vars; vi++) {
    const mlp_backend *be = vars[vi].be;
    const mlp_options *o = &vars[vi].opt;
    const char *name = vars[vi].label;
    char why[256];
    problem p;
    problem_make(&p, &shapes[3], 11);
    p.spec.lr = 0.01f;
    size_t n = mlp_param_count(&p.spec);
    float *g = malloc(n * sizeof(float)), *now = malloc(n * sizeof(float));
    double *m = calloc(n, sizeof(double)), *v = calloc(n, sizeof(double));
    double *want = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
      want[i] = p.params[i];
    void *ctx = be->create(be, &p.spec, o, why, sizeof why);
    be->set_params(ctx, p.params);
    double worst = 0;
    for (int t = 1; t <= 2; t++) {
      be->zero_grads(ctx);
      be->forward_backward(ctx, &p.b, NULL);
      be->get_grads(ctx, g);
      T_CHECK(be->step(ctx) == 0, "%s", be->error(ctx));
      be->get_params(ctx, now);
      for (size_t i = 0; i < n; i++) {
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.999 * v[i] + 0.001 * (double)g[i] * g[i];
        double mhat = m[i] / (1 - pow(0.9, t)), vhat = v[i] / (1 - pow(0.999, t));
        want[i] -= 0.01 * mhat / (sqrt(vhat) + 1e-8);
        worst = fmax(worst, fabs(now[i] - want[i]));
      }
    }
    /* the first Adam step moves every parameter with a non-zero gradient by lr */
    T_CHECK(worst < 1e-6, "%s: Adam differs from its formula by %.2e", name, worst);
    be->destroy(ctx);
    free(g);
    free(now);
    free(m);
    free(v);
    free(want);
    problem_free(&p);
  }
}

/* Several Adam steps on naive and blas, parameter by parameter. */
static void test_backends_agree_over_steps(void) {
  const mlp_backend *ref = registry_find("naive");
  for (int vi = 0; vi < n_vars; vi++) {
    const mlp_backend *be = vars[vi].be;
    const mlp_options *o = &vars[vi].opt;
    const char *name = vars[vi].label;
    char why[256];
    if (be == ref) continue;
    problem p;
    problem_make(&p, &shapes[1], 5);
    size_t n = mlp_param_count(&p.spec);
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    void *ca = ref->create(ref, &p.spec, &opts, why, sizeof why);
    void *cb = be->create(be, &p.spec, o, why, sizeof why);
    ref->set_params(ca, p.params);
    be->set_params(cb, p.params);
    for (int s = 0; s < 5; s++) {
      ref->zero_grads(ca);
      be->zero_grads(cb);
      ref->forward_backward(ca, &p.b, NULL);
      be->forward_backward(cb, &p.b, NULL);
      ref->step(ca);
      be->step(cb);
    }
    ref->get_params(ca, a);
    be->get_params(cb, b);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
      worst = fmax(worst, fabs(a[i] - b[i]));
    /* Adam moves each parameter by about lr per step, so 5 steps differ by << lr */
    T_CHECK(worst < 1e-4, "%s vs naive after 5 Adam steps: max abs diff %.2e", name, worst);
    ref->destroy(ca);
    be->destroy(cb);
    free(a);
    free(b);
    problem_free(&p);
  }
}

/* Resident training (set_dataset + train_steps) against naive stepping through the same
 * batches with forward_backward + step: a short last batch, with and without zero_grad, for
 * a softmax classifier (on arbitrary floats, and on images normalized as the loaders do,
 * byte / 255.0f, which a backend may keep as bytes), a regression net too wide for one warp,
 * and the toy net's full batch repeated as 40 epochs in one call. */
typedef struct {
  shape s;
  int n_data, batch, n_idx, pixels;
} resident_case;

static const resident_case resident_cases[] = {
    {{0, 50, 37, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE}, 100, 16, 45, 0},
    {{0, 50, 37, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE}, 100, 16, 45, 1},
    {{0, 64, 600, 2, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE}, 40, 8, 21, 0},
    {{0, 4, 3, 1, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE}, 3, 3, 120, 0},
};

static void resident_check(const t_variant *var, const resident_case *rc, int zero_grad) {
  const mlp_backend *be = var->be, *ref = registry_find("naive");
  shape sh = rc->s;
  sh.B = rc->n_data;
  problem p;
  problem_make(&p, &sh, 31);
  if (rc->pixels)
    for (size_t i = 0; i < (size_t)rc->n_data * sh.I; i++)
      p.x[i] = (float)((i * 2654435761u >> 7) % 256) / 255.0f;
  p.spec.max_batch = rc->batch;
  p.spec.opt = sh.loss == MLP_LOSS_SIGMOID_SE && sh.I == 4 ? MLP_OPT_SGD : MLP_OPT_ADAM;
  p.spec.lr = p.spec.opt == MLP_OPT_SGD ? 0.1f : 1e-3f;
  const int ce = sh.loss == MLP_LOSS_SOFTMAX_CE;
  size_t n = mlp_param_count(&p.spec);
  int32_t *idx = malloc((size_t)rc->n_idx * sizeof(int32_t)), *yb = malloc(rc->batch * 4);
  float *xb = malloc((size_t)rc->batch * sh.I * 4), *tb = malloc((size_t)rc->batch * sh.O * 4);
  float *a = malloc(n * 4), *b = malloc(n * 4), *ga = malloc(n * 4), *gb = malloc(n * 4);
  for (int i = 0; i < rc->n_idx; i++)
    idx[i] = rc->n_data == rc->batch ? i % rc->n_data : (i * 7 + 3) % rc->n_data;
  char err[256];
  void *cb = be->create(be, &p.spec, &var->opt, err, sizeof err), *ca = NULL;
  T_CHECK(cb != NULL, "%s: %s", var->label, err);
  if (!cb) goto done;
  be->set_params(cb, p.params);
  int rcode = be->set_dataset(cb, p.x, ce ? p.labels : NULL, ce ? NULL : p.y, rc->n_data);
  T_CHECK(rcode >= 0, "%s: set_dataset: %s", var->label, be->error(cb));
  if (rcode != 0) goto done; /* declined: this path steps through forward_backward */
  mlp_steps_out so;
  T_CHECK(be->train_steps(cb, idx, rc->n_idx, rc->batch, zero_grad, &so) == 0, "%s: %s", var->label,
          be->error(cb));
  ca = ref->create(ref, &p.spec, &opts, err, sizeof err);
  ref->set_params(ca, p.params);
  ref->zero_grads(ca);
  double sum = 0;
  float last = 0;
  int steps = 0;
  for (int at = 0; at < rc->n_idx; at += rc->batch, steps++) {
    int m = rc->n_idx - at < rc->batch ? rc->n_idx - at : rc->batch;
    for (int r = 0; r < m; r++) {
      int row = idx[at + r];
      memcpy(xb + (size_t)r * sh.I, p.x + (size_t)row * sh.I, (size_t)sh.I * 4);
      memcpy(tb + (size_t)r * sh.O, p.y + (size_t)row * sh.O, (size_t)sh.O * 4);
      yb[r] = p.labels[row];
    }
    mlp_batch bt = {.x = xb, .y = ce ? NULL : tb, .labels = ce ? yb : NULL, .n = m};
    if (zero_grad) ref->zero_grads(ca);
    ref->forward_backward(ca, &bt, &last);
    ref->step(ca);
    sum += last;
  }
  ref->get_params(ca, a);
  be->get_params(cb, b);
  ref->get_grads(ca, ga);
  be->get_grads(cb, gb);
  double ep = 0, eg = 0, np_ = 0, ng = 0;
  for (size_t i = 0; i < n; i++) {
    ep += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    np_ += (double)a[i] * a[i];
    eg += ((double)ga[i] - gb[i]) * ((double)ga[i] - gb[i]);
    ng += (double)ga[i] * ga[i];
  }
  ep = sqrt(ep / np_);
  eg = sqrt(eg / fmax(ng, 1e-30));
  double lm = fabs(so.mean_loss - sum / steps) / fabs(sum / steps);
  double ll = fabs(so.last_loss - last) / fmax(fabs(last), 1e-30);
  T_CHECK(ep < 1e-5 && eg < 1e-4 && lm < 1e-4 && ll < 1e-4,
          "%s %d-%d-%d%s zero_grad %d: params rel %.2e, grads rel %.2e, mean loss rel %.2e, "
          "last loss rel %.2e",
          var->label, sh.I, sh.H, sh.O, rc->pixels ? " pixels" : "", zero_grad, ep, eg, lm, ll);
done:
  if (ca) ref->destroy(ca);
  if (cb) be->destroy(cb);
  free(idx);
  free(yb);
  free(xb);
  free(tb);
  free(a);
  free(b);
  free(ga);
  free(gb);
  problem_free(&p);
}

static void test_resident_matches_steps(void) {
  for (int vi = 0; vi < n_vars; vi++) {
    if (!vars[vi].be->set_dataset || !vars[vi].be->train_steps) continue;
    for (size_t k = 0; k < sizeof resident_cases / sizeof resident_cases[0]; k++)
      for (int zg = 0; zg <= 1; zg++)
        resident_check(&vars[vi], &resident_cases[k], zg);
  }
}

static void test_bad_calls_are_errors(void) {
  for (int vi = 0; vi < n_vars; vi++) {
    const mlp_backend *be = vars[vi].be;
    const mlp_options *o = &vars[vi].opt;
    const char *name = vars[vi].label;
    char why[256];
    problem p;
    problem_make(&p, &shapes[4], 3);
    void *ctx = be->create(be, &p.spec, o, why, sizeof why);
    mlp_batch big = p.b;
    big.n = p.spec.max_batch + 1;
    T_CHECK(be->forward_backward(ctx, &big, NULL) != 0, "%s: oversize batch accepted", name);
    p.labels[2] = p.spec.n_out;
    T_CHECK(be->forward_backward(ctx, &p.b, NULL) != 0, "%s: label out of range accepted", name);
    T_CHECK(strlen(be->error(ctx)) > 0, "%s: no error message", name);
    be->destroy(ctx);
    mlp_spec zero = p.spec;
    zero.n_hidden = 0;
    T_CHECK(be->create(be, &zero, o, why, sizeof why) == NULL, "%s: hidden 0 accepted", name);
    problem_free(&p);
  }
}

/* Where FTZ/DAZ holds: inputs that are all subnormal give a W1 gradient of exact zeros
 * where DAZ is in force (the products see 0) and non-zeros where it is not. It is set on
 * the calling thread inside each backend call, so it holds for naive and for blas on one
 * thread; OpenBLAS's own worker threads keep their default state, and what they compute
 * of a product is not flushed (counted and printed, not asserted: the split is OpenBLAS's). */
static int nonzero_dW1(const mlp_backend *be, int threads, int ftz) {
  shape sh = {64, 300, 200, 10, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE};
  problem p;
  problem_make(&p, &sh, 41);
  for (int i = 0; i < sh.B * sh.I; i++)
    p.x[i] = 1e-39f; /* subnormal in fp32 */
  mlp_options o = {.threads = threads, .ftz = ftz};
  char err[256];
  size_t n = mlp_param_count(&p.spec);
  float *g = malloc(n * sizeof(float));
  void *ctx = be->create(be, &p.spec, &o, err, sizeof err);
  int nz = -1;
  if (ctx && g) {
    be->set_params(ctx, p.params);
    be->zero_grads(ctx);
    be->forward_backward(ctx, &p.b, NULL);
    be->get_grads(ctx, g);
    nz = 0;
    for (size_t i = 0; i < (size_t)sh.I * sh.H; i++)
      nz += g[i] != 0.0f;
  }
  if (ctx) be->destroy(ctx);
  free(g);
  problem_free(&p);
  return nz;
}

static void test_ftz_holds_where_stated(void) {
  const char *names[] = {"naive", "blas"};
  char why[256];
  for (int k = 0; k < 2; k++) {
    const mlp_backend *be = registry_find(names[k]);
    if (!be || !be->available(be, why, sizeof why)) continue;
    int on = nonzero_dW1(be, 1, 1), off = nonzero_dW1(be, 1, 0);
    T_CHECK(on == 0, "%s, 1 thread, FTZ/DAZ on: %d non-zero W1 gradients from subnormal inputs",
            be->name, on);
    T_CHECK(off > 0, "%s, FTZ/DAZ off: the subnormal inputs vanished anyway", be->name);
    if (k == 1)
      printf("  blas, 2 threads, FTZ/DAZ on: %d of %d W1 gradients not flushed (OpenBLAS's "
             "workers)\n",
             nonzero_dW1(be, 2, 1), 300 * 200);
  }
}

/* The fused path trains a net that fits one warp in the one-warp kernel, and says so. */
static void test_tiny_net_path(void) {
  shape sh = {3, 4, 3, 1, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE};
  for (int vi = 0; vi < n_vars; vi++) {
    if (!vars[vi].be->path || strcmp(vars[vi].path, "fused") != 0) continue;
    problem p;
    problem_make(&p, &sh, 5);
    char err[256], path[64] = "";
    void *ctx = vars[vi].be->create(vars[vi].be, &p.spec, &vars[vi].opt, err, sizeof err);
    T_CHECK(ctx != NULL, "%s: %s", vars[vi].label, err);
    if (ctx) {
      vars[vi].be->path(ctx, path, sizeof path);
      vars[vi].be->destroy(ctx);
    }
    T_CHECK(strstr(path, "tiny") != NULL, "%s on the toy net runs '%s'", vars[vi].label, path);
    problem_free(&p);
  }
}

/* Every name a results file, the table and compare's pools hold fits them whole, and no two
 * are alike: a truncated or repeated name would pool the wrong rows. */
static void test_names_fit_and_are_unique(void) {
  for (int i = 0; i < registry_count(); i++) {
    const char *a = registry_get(i)->name;
    T_CHECK(strlen(a) > 0 && strlen(a) < sizeof((report_row *)0)->backend, "backend '%s'", a);
    for (int k = 0; k < i; k++)
      T_CHECK(strcmp(a, registry_get(k)->name) != 0, "backend '%s' twice", a);
  }
  for (int i = 0; i < workload_count(); i++) {
    const char *a = workload_get(i)->name;
    T_CHECK(strlen(a) > 0 && strlen(a) < sizeof((report_workload *)0)->name, "workload '%s'", a);
    for (int k = 0; k < i; k++)
      T_CHECK(strcmp(a, workload_get(k)->name) != 0, "workload '%s' twice", a);
  }
}

int main(void) {
  n_vars = t_variants(&opts, vars);
  T_RUN(test_gradients_match_reference);
  T_RUN(test_gradient_accumulation);
  T_RUN(test_adam_steps);
  T_RUN(test_backends_agree_over_steps);
  T_RUN(test_resident_matches_steps);
  T_RUN(test_bad_calls_are_errors);
  T_RUN(test_names_fit_and_are_unique);
  T_RUN(test_ftz_holds_where_stated);
  T_RUN(test_tiny_net_path);
  T_EXIT();
}
