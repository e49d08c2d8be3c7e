/* test_cuda.c: the CUDA backend against the float64 reference and the blas backend.
 * Without a device it exits 77, which ctest reports as skipped, and says why. */
#include <math.h>
#include <stdlib.h>

#include "../harness/gradcheck.h"
#include "../harness/registry.h"
#include "../harness/trainer.h"
#include "t.h"

static const mlp_backend *cuda;

static void check_grads(int tf32, double tol) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 2000};
  T_CHECK(dataset_load(NULL, &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  gc_batch gb;
  gc_batch_make(&w, 1, &gb);
  float *p = malloc(mlp_param_count(&w.spec) * sizeof(float));
  workload_init_params(&w, 1, p);
  double loss, *ref = NULL;
  gc_reference(&w, p, &gb.b, &loss, &ref);
  mlp_options o = {.ftz = 1, .tf32 = tf32};
  gc_result r;
  T_CHECK(gc_check_backend(cuda, &o, &w, &gb.b, p, loss, ref, tol, &r, err, sizeof err) == 0, "%s",
          err);
  T_CHECK(r.pass, "tf32=%d: worst relative error %.2e over tolerance %.0e", tf32, r.worst, tol);
  printf("  cuda tf32=%d: worst relative error %.2e (tolerance %.0e)\n", tf32, r.worst, tol);
  free(ref);
  free(p);
  gc_batch_free(&gb);
  workload_free(&w);
  dataset_free(&d);
}

static void test_gradients_fp32(void) {
  check_grads(0, GC_TOL_FP32);
}
static void test_gradients_tf32(void) {
  check_grads(1, GC_TOL_TF32);
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
