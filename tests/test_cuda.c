/* test_cuda.c: the CUDA backend against the float64 reference and the blas backend.
 * Without a device it exits 77, which ctest reports as skipped, and says why. */
#include <math.h>
#include <stdlib.h>

#include "../harness/engine/be_handle.h"
#include "../harness/engine/gradcheck.h"
#include "../harness/engine/registry.h"
#include "../harness/engine/trainer.h"
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
    if (!cpu->available(err, sizeof err)) cpu = registry_find("naive");
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
  gc_judge(&w, g, l, loss, ref, &tol, &r);
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
  if (!blas->available(why, sizeof why)) blas = registry_find("naive");
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
  cuda->describe(buf, sizeof buf);
  printf("  %s\n", buf);
  T_CHECK(strstr(buf, "compute capability") && strstr(buf, "driver"), "%s", buf);
}

int main(void) {
  char why[256];
  cuda = registry_find("cuda");
  if (!cuda || !cuda->available(why, sizeof why)) {
    printf("skipped: cuda backend unavailable: %s\n", cuda ? why : "not registered");
    return T_SKIP_CODE;
  }
  T_RUN(test_describe);
  T_RUN(test_gradients_fp32);
  T_RUN(test_gradients_tf32);
  T_RUN(test_loss_curve_matches_blas);
  T_RUN(test_divergence_names_step);
  T_EXIT();
}
