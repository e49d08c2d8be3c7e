/* test_cuda.c: the CUDA backend against the float64 reference and the blas backend, and the
 * fused path's tunables (slice width, blocks per slice) on the device or, without one, on the
 * emulated build. With neither it exits 77, which ctest reports as skipped, and says why. */
#include <math.h>
#include <stdlib.h>

#include "../harness/backends/be_handle.h"
#include "../harness/backends/registry.h"
#include "../harness/check/gradcheck.h"
#include "../harness/check/ref64.h"
#include "../harness/run/trainer.h"
#include "t.h"

static const mlp_backend *cuda;

/* cuda's gradients on a check batch of `data` (weights: initial, or after `epochs` of blas or
 * naive training) judged by the tolerance gradcheck uses: fp32's, or TF32's error model.
 * With `plant`, a bug is planted in the gradients first (1: b1's gradient lost, 2: W1's rows
 * paired with the wrong inputs), and the check must fail. */
static void check_grads(const char *data, int tf32, int epochs, int plant) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 2000, .epochs = epochs ? epochs : 1};
  if (dataset_load(data, &d, err, sizeof err)) {
    printf("  skipped %s: %s\n", data ? data : "digits", err);
    return;
  }
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  gc_batch gb;
  gc_batch_make(&w, 1, &gb);
  float *p = malloc(mlp_param_count(&w.spec) * sizeof(float));
  float *g = malloc(mlp_param_count(&w.spec) * sizeof(float));
  workload_init_params(&w, 1, p);
  if (epochs) { /* trained weights: the CPU backend's, after `epochs` epochs */
    const mlp_backend *cpu = registry_find("blas");
    if (!cpu->available(cpu, err, sizeof err)) cpu = registry_find("naive");
    trainer t;
    double sec, l;
    mlp_options fo = {.ftz = 1};
    T_CHECK(trainer_open(&t, cpu, &fo, &w, 1) == 0, "%s", t.err);
    for (int e = 0; e < epochs; e++)
      T_CHECK(trainer_epochs(&t, 1, &sec, &l) == 0, "%s", t.err);
    cpu->get_params(t.h.ctx, p);
    trainer_close(&t);
  }
  double loss, *ref = NULL;
  gc_reference(&w, p, &gb.b, &loss, &ref);
  mlp_options o = {.ftz = 1, .tf32 = tf32};
  gc_tol tol;
  gc_result r;
  be_handle h;
  T_CHECK(gc_tolerance(cuda, &o, &w, p, &gb.b, &tol) == 0, "tolerance model");
  T_CHECK(be_open(&h, cuda, &w.spec, &o, err, sizeof err) == 0, "%s", err);
  float l = 0;
  T_CHECK(cuda->set_params(h.ctx, p) == 0 && cuda->zero_grads(h.ctx) == 0 &&
              cuda->forward_backward(h.ctx, &gb.b, &l) == 0 && cuda->get_grads(h.ctx, g) == 0,
          "%s", be_error(&h));
  be_close(&h);
  size_t off[4];
  mlp_param_offsets(&w.spec, off);
  if (plant == 1) memset(g + off[1], 0, (size_t)w.spec.n_hidden * sizeof(float));
  if (plant == 2) /* W1's first two input rows exchanged */
    for (int j = 0; j < w.spec.n_hidden; j++) {
      float *a = g + off[0] + 300 * w.spec.n_hidden + j, *b = a + w.spec.n_hidden, t = *a;
      *a = *b;
      *b = t;
    }
  gc_judge(&w.spec, g, l, loss, ref, &tol, &r);
  if (plant)
    T_CHECK(!r.pass, "planted bug %d passed: worst %.2e, tolerance %.2e", plant, r.worst, r.tol);
  else
    T_CHECK(r.pass, "%s tf32=%d epochs %d: worst %.2e, tolerances W1 %.2e b1 %.2e",
            data ? data : "digits", tf32, epochs, r.worst, tol.t[0], tol.t[1]);
  printf("  cuda %s tf32=%d after %d epochs%s: W1 %.2e (tol %.2e) b1 %.2e (tol %.2e) W2 %.2e (tol "
         "%.2e) b2 %.2e (tol %.2e)\n",
         data ? data : "digits", tf32, epochs, plant ? " with a planted bug" : "", r.t[0].rel_l2,
         r.t[0].tol, r.t[1].rel_l2, r.t[1].tol, r.t[2].rel_l2, r.t[2].tol, r.t[3].rel_l2,
         r.t[3].tol);
  free(ref);
  free(p);
  free(g);
  gc_batch_free(&gb);
  workload_free(&w);
  dataset_free(&d);
}

static void test_gradients_fp32(void) {
  check_grads(NULL, 0, 0, 0);
}
/* TF32 by its error model: real data at initial weights and after training passes; a planted
 * bug fails (the rule can still fail). */
static void test_gradients_tf32(void) {
  const char *sets[2] = {NULL, "fashion"};
  for (int i = 0; i < 2; i++) {
    check_grads(sets[i], 1, 0, 0);
    check_grads(sets[i], 1, 2, 0);
  }
  check_grads(NULL, 1, 0, 1);
  check_grads(NULL, 1, 0, 2);
}

/* The resident, graph-replayed path must follow the blas backend's loss curve. Tolerance:
 * 1e-3 relative per epoch mean loss (fp32 rounding grows over hundreds of Adam steps). */
static void test_loss_curve_matches_blas(void) {
  const mlp_backend *blas = registry_find("blas");
  char why[256];
  if (!blas->available(blas, why, sizeof why)) blas = registry_find("naive");
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 4000, .epochs = 3, .sampling = WL_SAMPLE_TUTORIAL};
  T_CHECK(dataset_load(NULL, &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  mlp_options o = {.ftz = 1};
  trainer a, b;
  T_CHECK(trainer_open(&a, cuda, &o, &w, 5) == 0, "%s", a.err);
  T_CHECK(trainer_open(&b, blas, &o, &w, 5) == 0, "%s", b.err);
  T_CHECK(a.resident, "the cuda backend should keep the data set resident");
  for (int e = 0; e < 3; e++) {
    double sa, sb, la, lb;
    T_CHECK(trainer_epochs(&a, 1, &sa, &la) == 0, "%s", a.err);
    T_CHECK(trainer_epochs(&b, 1, &sb, &lb) == 0, "%s", b.err);
    T_CHECK(fabs(la - lb) <= 1e-3 * lb, "epoch %d: cuda loss %.6f, %s %.6f", e + 1, la, blas->name,
            lb);
    printf("  epoch %d: cuda %.6f (%.2f ms)  %s %.6f\n", e + 1, la, sa * 1e3, blas->name, lb);
  }
  double va, vb;
  trainer_accuracy(&a, w.x_val, w.y_val, w.n_val, &va);
  trainer_accuracy(&b, w.x_val, w.y_val, w.n_val, &vb);
  T_CHECK(fabs(va - vb) <= 0.01, "validation accuracy cuda %.4f vs %.4f", va, vb);
  trainer_close(&a);
  trainer_close(&b);
  workload_free(&w);
  dataset_free(&d);
}

static void test_divergence_names_step(void) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 2000, .lr = 1e30f};
  dataset_load(NULL, &d, err, sizeof err);
  workload_mnist(&w, &d, &cfg, err, sizeof err);
  mlp_options o = {.ftz = 1};
  trainer t;
  double s, l;
  T_CHECK(trainer_open(&t, cuda, &o, &w, 1) == 0, "%s", t.err);
  T_CHECK(trainer_epochs(&t, 1, &s, &l) != 0 && strstr(t.err, "diverged") &&
              strstr(t.err, "at step"),
          "%s", t.err);
  trainer_close(&t);
  workload_free(&w);
  dataset_free(&d);
}

static void test_describe(void) {
  char buf[512] = "";
  cuda->describe(cuda, NULL, buf, sizeof buf);
  printf("  %s\n", buf);
  T_CHECK(strstr(buf, "compute capability") && strstr(buf, "driver"), "%s", buf);
}

/* The fused path's gradients against float64 at tunables other than the defaults (each one a
 * different split of the work: more blocks than rows, uneven shares, one block per slice, the
 * widest and narrowest slices), and a bad tunable refused at create with its name. */
static const mlp_backend *fused_be; /* cuda, or cuda-emu without a device */

static void test_fused_tunables(void) {
  const mlp_backend *be = fused_be;
  static const struct {
    int B, I, H, O, slice, split;
    mlp_act act;
    mlp_loss loss;
  } cases[] = {
      {128, 784, 500, 10, 8, 3, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},
      {129, 65, 257, 10, 32, 5, MLP_ACT_SIGMOID, MLP_LOSS_SOFTMAX_CE},
      {7, 64, 70, 1, 8, 16, MLP_ACT_SIGMOID, MLP_LOSS_SIGMOID_SE},
      {1024, 100, 40, 10, 16, 16, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},
      {33, 31, 100, 3, 16, 1, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE},
  };
  mlp_options o = {.ftz = 1, .path = "fused"};
  char err[512], sl[8], sp[8];
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    mlp_spec sp_ = {.n_in = cases[ci].I,
                    .n_hidden = cases[ci].H,
                    .n_out = cases[ci].O,
                    .act = cases[ci].act,
                    .loss = cases[ci].loss,
                    .opt = MLP_OPT_ADAM,
                    .lr = 1e-3f,
                    .beta1 = 0.9f,
                    .beta2 = 0.999f,
                    .eps = 1e-8f,
                    .max_batch = cases[ci].B};
    const int B = cases[ci].B, I = cases[ci].I, O = cases[ci].O;
    size_t n = mlp_param_count(&sp_);
    float *x = malloc((size_t)B * I * sizeof(float)), *y = malloc((size_t)B * O * sizeof(float));
    float *p = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
    double *pd = malloc(n * sizeof(double)), *ref = malloc(n * sizeof(double)), lref = 0;
    int32_t *lab = malloc((size_t)B * sizeof(int32_t));
    unsigned seed = 12345u + (unsigned)ci;
    for (int i = 0; i < B * I; i++)
      x[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / 16777216.0f;
    for (int i = 0; i < B * O; i++)
      y[i] = (float)(((seed = seed * 1103515245u + 12345u) >> 20) & 1);
    for (int i = 0; i < B; i++)
      lab[i] = (int32_t)(((seed = seed * 1103515245u + 12345u) >> 8) % (unsigned)O);
    for (size_t i = 0; i < n; i++) {
      p[i] = ((float)((seed = seed * 1103515245u + 12345u) >> 8) / 8388608.0f - 1.0f) /
             sqrtf((float)I);
      pd[i] = p[i];
    }
    const int ce = cases[ci].loss == MLP_LOSS_SOFTMAX_CE;
    mlp_batch b = {.x = x, .y = ce ? NULL : y, .labels = ce ? lab : NULL, .n = B};
    T_CHECK(ref64_loss_grad(&sp_, pd, &b, &lref, ref, NULL) == 0, "ref64");
    snprintf(sl, sizeof sl, "%d", cases[ci].slice);
    snprintf(sp, sizeof sp, "%d", cases[ci].split);
    setenv("MLPBENCH_FUSED_SLICE", sl, 1);
    setenv("MLPBENCH_FUSED_SPLIT", sp, 1);
    void *ctx = be->create(be, &sp_, &o, err, sizeof err);
    T_CHECK(ctx != NULL, "%s: %s", be->name, err);
    if (ctx) {
      float l = 0;
      char path[96] = "";
      T_CHECK(be->set_params(ctx, p) == 0 && be->zero_grads(ctx) == 0 &&
                  be->forward_backward(ctx, &b, &l) == 0 && be->get_grads(ctx, g) == 0,
              "%s", be->error(ctx));
      be->path(ctx, path, sizeof path);
      double se = 0, sr = 0;
      for (size_t i = 0; i < n; i++) {
        se += ((double)g[i] - ref[i]) * ((double)g[i] - ref[i]);
        sr += ref[i] * ref[i];
      }
      double e = sqrt(se / sr), le = fabs(l - lref) / fabs(lref);
      T_CHECK(e <= GC_TOL_FP32 && le <= GC_TOL_FP32,
              "%s slice %d split %d (%d,%d,%d,%d): grad "
              "rel %.2e loss rel %.2e",
              be->name, cases[ci].slice, cases[ci].split, B, I, cases[ci].H, O, e, le);
      printf("  %s %d-%d-%d batch %d, %s: grad rel %.2e\n", be->name, I, cases[ci].H, O, B, path,
             e);
      be->destroy(ctx);
    }
    free(x), free(y), free(p), free(g), free(pd), free(ref), free(lab);
  }
  mlp_spec s = {.n_in = 4,
                .n_hidden = 40,
                .n_out = 2,
                .act = MLP_ACT_RELU,
                .loss = MLP_LOSS_SOFTMAX_CE,
                .opt = MLP_OPT_SGD,
                .lr = 0.1f,
                .max_batch = 8};
  const char *bad[][2] = {{"MLPBENCH_FUSED_SLICE", "12"},
                          {"MLPBENCH_FUSED_SLICE", "64"},
                          {"MLPBENCH_FUSED_SPLIT", "0"},
                          {"MLPBENCH_FUSED_SPLIT", "3x"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("MLPBENCH_FUSED_SLICE", "16", 1);
    setenv("MLPBENCH_FUSED_SPLIT", "2", 1);
    setenv(bad[i][0], bad[i][1], 1);
    err[0] = 0;
    void *ctx = be->create(be, &s, &o, err, sizeof err);
    T_CHECK(ctx == NULL && strstr(err, bad[i][0]), "%s=%s: '%s'", bad[i][0], bad[i][1], err);
    if (ctx) be->destroy(ctx);
  }
  unsetenv("MLPBENCH_FUSED_SLICE");
  unsetenv("MLPBENCH_FUSED_SPLIT");
}

/* Resident training (set_dataset + train_steps: the epoch kernel on a GPU, the phases step
 * by step on the emulated build) at tunables other than the defaults must end where the
 * defaults end (test_backends holds the defaults to naive stepping): 3 steps with a short
 * last batch, gradients accumulated across steps (no zero_grad), Adam. */
static void test_fused_tunables_resident(void) {
  const mlp_backend *be = fused_be;
  mlp_spec sp = {.n_in = 64,
                 .n_hidden = 100,
                 .n_out = 10,
                 .act = MLP_ACT_RELU,
                 .loss = MLP_LOSS_SOFTMAX_CE,
                 .opt = MLP_OPT_ADAM,
                 .lr = 1e-3f,
                 .beta1 = 0.9f,
                 .beta2 = 0.999f,
                 .eps = 1e-8f,
                 .max_batch = 16};
  enum { N = 100, STEPS_IDX = 45 };
  const char *tun[][2] = {{"", ""}, {"8", "5"}, {"32", "1"}, {"16", "16"}};
  size_t n = mlp_param_count(&sp);
  float *x = malloc((size_t)N * sp.n_in * sizeof(float)), *p = malloc(n * sizeof(float));
  float *out[4], *gout[4];
  int32_t lab[N], idx[STEPS_IDX];
  unsigned seed = 777u;
  for (int i = 0; i < N * sp.n_in; i++)
    x[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / 16777216.0f;
  for (int i = 0; i < N; i++)
    lab[i] = (int32_t)(((seed = seed * 1103515245u + 12345u) >> 8) % 10u);
  for (size_t i = 0; i < n; i++)
    p[i] = ((float)((seed = seed * 1103515245u + 12345u) >> 8) / 8388608.0f - 1.0f) / 8.0f;
  for (int i = 0; i < STEPS_IDX; i++)
    idx[i] = (i * 7 + 3) % N;
  mlp_options o = {.ftz = 1, .path = "fused"};
  char err[512];
  for (int t = 0; t < 4; t++) {
    out[t] = calloc(n, sizeof(float));
    gout[t] = calloc(n, sizeof(float));
    setenv("MLPBENCH_FUSED_SLICE", tun[t][0], 1);
    setenv("MLPBENCH_FUSED_SPLIT", tun[t][1], 1);
    void *ctx = be->create(be, &sp, &o, err, sizeof err);
    T_CHECK(ctx != NULL, "%s: %s", be->name, err);
    if (!ctx) continue;
    mlp_steps_out so;
    T_CHECK(be->set_params(ctx, p) == 0 && be->zero_grads(ctx) == 0 &&
                be->set_dataset(ctx, x, lab, NULL, N) == 0 &&
                be->train_steps(ctx, idx, STEPS_IDX, 16, 0, &so) == 0 &&
                be->get_params(ctx, out[t]) == 0 && be->get_grads(ctx, gout[t]) == 0,
            "%s slice '%s' split '%s': %s", be->name, tun[t][0], tun[t][1], be->error(ctx));
    be->destroy(ctx);
    if (t == 0) continue;
    double ep = 0, np_ = 0, eg = 0, ng = 0;
    for (size_t i = 0; i < n; i++) {
      ep += ((double)out[t][i] - out[0][i]) * ((double)out[t][i] - out[0][i]);
      np_ += (double)out[0][i] * out[0][i];
      eg += ((double)gout[t][i] - gout[0][i]) * ((double)gout[t][i] - gout[0][i]);
      ng += (double)gout[0][i] * gout[0][i];
    }
    T_CHECK(sqrt(ep / np_) < 1e-6 && sqrt(eg / ng) < 1e-4,
            "slice %s split %s vs defaults: params rel %.2e, grads rel %.2e", tun[t][0], tun[t][1],
            sqrt(ep / np_), sqrt(eg / ng));
  }
  for (int t = 0; t < 4; t++)
    free(out[t]), free(gout[t]);
  free(x), free(p);
  unsetenv("MLPBENCH_FUSED_SLICE");
  unsetenv("MLPBENCH_FUSED_SPLIT");
}

int main(void) {
  char why[256];
  cuda = registry_find("cuda");
  const mlp_backend *emu = registry_find("cuda-emu");
  const int dev = cuda && cuda->available(cuda, why, sizeof why);
  if (!dev && !(emu && emu->available(emu, why, sizeof why))) {
    printf("skipped: cuda backend unavailable and no emulated build: %s\n", why);
    return T_SKIP_CODE;
  }
  if (!dev) { /* the emulated build proves the fused kernels' logic; the rest needs the GPU */
    printf("cuda backend unavailable: the fused path's tunables on cuda-emu only\n");
    fused_be = emu;
    T_RUN(test_fused_tunables);
    T_RUN(test_fused_tunables_resident);
    T_EXIT();
  }
  fused_be = cuda;
  T_RUN(test_fused_tunables);
  T_RUN(test_fused_tunables_resident);
  T_RUN(test_describe);
  T_RUN(test_gradients_fp32);
  T_RUN(test_gradients_tf32);
  T_RUN(test_loss_curve_matches_blas);
  T_RUN(test_divergence_names_step);
  T_EXIT();
}
