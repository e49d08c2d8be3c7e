/* example.c: a backend for mlpbench, built outside mlpbench as a plugin.
 *
 * The training step itself (bias, activations, loss, SGD and Adam) is mlpbench's own CPU step
 * (common/cpu_mlp.h); a backend gives it the three kinds of matrix product a two-layer MLP
 * needs. Here they are plain loops: replace them with your own kernels, or calls into a BLAS,
 * and mlpbench checks the gradients against float64 and times the epochs beside naive and blas.
 *
 *   make                      builds libmlp_example.so against the installed mlpbench
 *   mlpbench conform --backend-lib ./libmlp_example.so
 *   mlpbench bench --backend-lib ./libmlp_example.so --backend naive,example
 */
#include <stdio.h>
#include <string.h>

#include <mlpbench/common/cpu_mlp.h>
#include <mlpbench/mlp_plugin.h>

/* C (M, N) = A (M, K) @ B (K, N), all row-major */
static void matmul_nn(float *C, const float *A, const float *B, int M, int N, int K) {
  memset(C, 0, sizeof(float) * (size_t)M * N);
  for (int i = 0; i < M; i++)
    for (int k = 0; k < K; k++) {
      float a = A[(size_t)i * K + k];
      for (int j = 0; j < N; j++)
        C[(size_t)i * N + j] += a * B[(size_t)k * N + j];
    }
}

/* C (M, N) += A^T @ B, A (K, M), B (K, N): the weight gradients, added to what is there */
static void matmul_tn_acc(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int k = 0; k < K; k++)
    for (int i = 0; i < M; i++) {
      float a = A[(size_t)k * M + i];
      for (int j = 0; j < N; j++)
        C[(size_t)i * N + j] += a * B[(size_t)k * N + j];
    }
}

/* C (M, N) = A^T @ B: the same right after zero_grads */
static void matmul_tn(float *C, const float *A, const float *B, int M, int N, int K) {
  memset(C, 0, sizeof(float) * (size_t)M * N);
  matmul_tn_acc(C, A, B, M, N, K);
}

/* C (M, N) = A (M, K) @ B^T, B (N, K): the hidden delta */
static void matmul_nt(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0.0f;
      for (int k = 0; k < K; k++)
        s += A[(size_t)i * K + k] * B[(size_t)j * K + k];
      C[(size_t)i * N + j] = s;
    }
}

static const cpu_matmul_ops example_ops = {matmul_nn, matmul_tn_acc, matmul_nt, matmul_tn,
                                           NULL /* every loop on the calling thread */};

static int example_available(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  if (len) why[0] = '\0';
  return 1; /* a library that needs a device or a licence would say why not here */
}

static void example_describe(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  (void)self, (void)ctx; /* a context could say more: its device, its threads */
  snprintf(buf, len, "example plugin: i-k-j loops, 1 thread");
}

static void *example_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                            char *err, size_t len) {
  (void)self;
  return cpu_mlp_create(spec, opt, &example_ops, err, len);
}

static const mlp_backend example_backend = {
    MLP_BACKEND_PLUGIN_HEADER, /* the ABI version and table size mlpbench checks */
    .name = "example",
    .summary = "the examples/plugin backend: plain loops over mlpbench's CPU step",
    .available = example_available,
    .describe = example_describe,
    .create = example_create,
    .destroy = cpu_mlp_destroy,
    .error = cpu_mlp_error,
    .set_params = cpu_mlp_set_params,
    .get_params = cpu_mlp_get_params,
    .get_grads = cpu_mlp_get_grads,
    .zero_grads = cpu_mlp_zero_grads,
    .forward_backward = cpu_mlp_forward_backward,
    .step = cpu_mlp_step,
    .forward = cpu_mlp_forward,
    .gemm_floor = cpu_mlp_gemm_floor, /* the floor column: the same products alone */
};

const mlp_backend *mlpbench_backend_entry(int harness_abi) {
  return harness_abi == MLP_BACKEND_ABI ? &example_backend : NULL;
}
