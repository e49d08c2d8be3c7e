/* blis_plugin.c: the `blis` backend, a plugin (never linked into mlpbench): mlpbench's CPU
 * step over a cpu_matmul_ops table of BLIS's typed API. bli_sgemm takes a row and a column
 * stride for each operand, so every transpose the step needs is a stride swap, not a flag. */
#include <blis.h>
#include <stdio.h>

#include "../common/cpu_mlp.h"
#include "../mlp_plugin.h"

static float one = 1.0f, zero = 0.0f;

/* C (M, N) = alpha A (M, K) B (K, N) + beta C, A and B given by their strides */
static void gemm(float *C, const float *A, inc_t rsa, inc_t csa, const float *B, inc_t rsb,
                 inc_t csb, int M, int N, int K, float *beta) {
  bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, M, N, K, &one, (float *)A, rsa, csa, (float *)B,
            rsb, csb, beta, C, N, 1);
}
static void mm_nn(float *C, const float *A, const float *B, int M, int N, int K) {
  gemm(C, A, K, 1, B, N, 1, M, N, K, &zero);
}
/* A (K, M) read as A^T (M, K): row stride 1, column stride M */
static void mm_tn_acc(float *C, const float *A, const float *B, int M, int N, int K) {
  gemm(C, A, 1, M, B, N, 1, M, N, K, &one);
}
static void mm_tn(float *C, const float *A, const float *B, int M, int N, int K) {
  gemm(C, A, 1, M, B, N, 1, M, N, K, &zero);
}
/* B (N, K) read as B^T (K, N) */
static void mm_nt(float *C, const float *A, const float *B, int M, int N, int K) {
  gemm(C, A, K, 1, B, 1, K, M, N, K, &zero);
}

static const cpu_matmul_ops blis_ops = {mm_nn, mm_tn_acc, mm_nt, mm_tn, NULL};

static int blis_available(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  if (len) why[0] = '\0';
  return 1;
}

static int blis_library(const mlp_backend *self, mlp_library *out) {
  (void)self;
  snprintf(out->library, sizeof out->library, "BLIS %s", bli_info_get_version_str());
  snprintf(out->kernel, sizeof out->kernel, "%s", bli_arch_string(bli_arch_query_id()));
  /* -1: never set, and then BLIS runs one thread unless BLIS_*_NT say otherwise */
  dim_t n = bli_thread_get_num_threads();
  out->threads = n < 1 ? 1 : (int)n;
  return 0;
}

static void blis_describe(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  (void)ctx;
  mlp_library l;
  blis_library(self, &l);
  snprintf(buf, len, "%s, kernel %s, %d thread%s (BLIS_NUM_THREADS)", l.library, l.kernel,
           l.threads, l.threads == 1 ? "" : "s");
}

static void *blis_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                         char *err, size_t len) {
  (void)self;
  if (opt->threads > 0) bli_thread_set_num_threads(opt->threads);
  return cpu_mlp_create(spec, opt, &blis_ops, err, len);
}

static void blis_path(void *ctx, char *buf, size_t len) {
  (void)ctx;
  snprintf(buf, len, "bli_sgemm, kernel %s", bli_arch_string(bli_arch_query_id()));
}

static const mlp_backend blis_backend = {
    MLP_BACKEND_PLUGIN_HEADER,
    .name = "blis",
    .summary = "BLIS's bli_sgemm for the layer products, loops elsewhere (a plugin)",
    .available = blis_available,
    .describe = blis_describe,
    .create = blis_create,
    CPU_MLP_SLOTS,
    .path = blis_path,
    .library = blis_library,
};

const mlp_backend *mlpbench_backend_entry(int harness_abi) {
  return harness_abi == MLP_BACKEND_ABI ? &blis_backend : NULL;
}
