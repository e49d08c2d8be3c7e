/* naive.c: the reference backend. Plain single-threaded loops, ordered so the innermost
 * loop walks contiguous memory (the compiler vectorizes it; no blocking, no threads). */
#include <stdio.h>
#include <string.h>

#include "naive.h"

// C (M, N) = A (M, K) @ B (K, N)
static void matmul_nn(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * N;
    memset(c, 0, (size_t)N * sizeof(float));
    for (int k = 0; k < K; k++) {
      const float a = A[(size_t)i * K + k];
      const float *b = B + (size_t)k * N;
      for (int j = 0; j < N; j++)
        c[j] += a * b[j];
    }
  }
}

// C (M, N) += A^T @ B, with A (K, M) and B (K, N)
static void matmul_tn_acc(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * N;
    for (int k = 0; k < K; k++) {
      const float a = A[(size_t)k * M + i];
      const float *b = B + (size_t)k * N;
      for (int j = 0; j < N; j++)
        c[j] += a * b[j];
    }
  }
}

// C (M, N) = A^T @ B, with A (K, M) and B (K, N)
static void matmul_tn(float *C, const float *A, const float *B, int M, int N, int K) {
  memset(C, 0, (size_t)M * N * sizeof(float));
  matmul_tn_acc(C, A, B, M, N, K);
}

// C (M, N) = A (M, K) @ B^T, with B (N, K)
static void matmul_nt(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int i = 0; i < M; i++) {
    const float *a = A + (size_t)i * K;
    for (int j = 0; j < N; j++) {
      const float *b = B + (size_t)j * K;
      float sum = 0.0f;
      for (int k = 0; k < K; k++)
        sum += a[k] * b[k];
      C[(size_t)i * N + j] = sum;
    }
  }
}

const cpu_matmul_ops naive_matmul_ops = {matmul_nn, matmul_tn_acc, matmul_nt, matmul_tn, NULL};

static int naive_available(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  if (len) why[0] = '\0';
  return 1;
}

static void naive_describe(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  (void)self, (void)ctx;
  snprintf(buf, len, "plain C loops, 1 thread");
}

static void *naive_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                          char *err, size_t len) {
  (void)self;
  return cpu_mlp_create(spec, opt, &naive_matmul_ops, err, len);
}

static const mlp_props naive_props = {.reference = 1};

const mlp_backend mlp_backend_naive = {
    .name = "naive",
    .summary = "plain C loops, single thread (the reference)",
    .available = naive_available,
    .describe = naive_describe,
    .create = naive_create,
    CPU_MLP_SLOTS,
    .props = &naive_props,
};
