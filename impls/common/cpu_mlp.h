/* cpu_mlp.h: the fp32 CPU training step shared by the naive and blas backends.
 *
 * The two CPU backends differ only in how they multiply matrices: naive uses plain
 * loops, blas calls cblas_sgemm. Everything elementwise (bias, activations, softmax
 * cross-entropy, optimizers) is this one file, so a difference between the two
 * backends' gradients can only come from their products.
 */
#ifndef MLPB_CPU_MLP_H
#define MLPB_CPU_MLP_H

#include "../mlp_backend.h"

/* One share of a loop: part `part` of `parts` equal shares of the work behind arg. */
typedef void (*cpu_task)(void *arg, int part, int parts);

/* The products of a two-layer MLP step, all row-major, and the threads they run on. */
typedef struct {
  /* C (M, N) = A (M, K) @ B (K, N) */
  void (*matmul_nn)(float *C, const float *A, const float *B, int M, int N, int K);
  /* C (M, N) += A^T @ B, A (K, M), B (K, N): weight gradients, accumulated */
  void (*matmul_tn_acc)(float *C, const float *A, const float *B, int M, int N, int K);
  /* C (M, N) = A (M, K) @ B^T, B (N, K): the hidden delta */
  void (*matmul_nt)(float *C, const float *A, const float *B, int M, int N, int K);
  /* C (M, N) = A^T @ B: weight gradients right after zero_grads (nothing to add to) */
  void (*matmul_tn)(float *C, const float *A, const float *B, int M, int N, int K);
  /* Optional (NULL: every loop runs on the calling thread). Runs fn(arg, part, parts) for
   * every part of parts on the threads the products use, and returns when all are done:
   * the step's elementwise passes and its optimizer then share the library's cores instead
   * of running on one while its workers spin. The step splits only loops large enough to
   * pay for it, and each part flushes subnormals as the calling thread does. */
  void (*parallel)(cpu_task fn, void *arg);
} cpu_matmul_ops;

void *cpu_mlp_create(const mlp_spec *spec, const mlp_options *opt, const cpu_matmul_ops *mm,
                     char *err, size_t len);
void cpu_mlp_destroy(void *ctx);
const char *cpu_mlp_error(void *ctx);
int cpu_mlp_set_params(void *ctx, const float *flat);
int cpu_mlp_get_params(void *ctx, float *flat);
int cpu_mlp_get_grads(void *ctx, float *flat);
int cpu_mlp_zero_grads(void *ctx);
int cpu_mlp_forward_backward(void *ctx, const mlp_batch *b, float *loss);
int cpu_mlp_step(void *ctx);
int cpu_mlp_forward(void *ctx, const float *x, int n, float *out);
int cpu_mlp_gemm_floor(void *ctx, int batch, int steps, double *seconds);
int cpu_mlp_step_floor(void *ctx, int batch, int steps, double *seconds);
/* The training split kept in the context (a copy), and whole epochs on it: each batch is
 * gathered inside the step, on its threads (the interface's set_dataset / train_steps). */
int cpu_mlp_set_dataset(void *ctx, const float *x, const int32_t *labels, const float *targets,
                        int n);
int cpu_mlp_train_steps(void *ctx, const int32_t *idx, int n_idx, int batch, int zero_grad,
                        mlp_steps_out *out);

/* The slots every backend built on this step shares, for its table, so a CPU backend is its
 * matmul table, create and what describes it:
 *   const mlp_backend b = {.name = "x", .create = x_create, CPU_MLP_SLOTS, .path = x_path}; */
#define CPU_MLP_SLOTS                                                                              \
  .destroy = cpu_mlp_destroy, .error = cpu_mlp_error, .set_params = cpu_mlp_set_params,            \
  .get_params = cpu_mlp_get_params, .get_grads = cpu_mlp_get_grads,                                \
  .zero_grads = cpu_mlp_zero_grads, .forward_backward = cpu_mlp_forward_backward,                  \
  .step = cpu_mlp_step, .forward = cpu_mlp_forward, .gemm_floor = cpu_mlp_gemm_floor,              \
  .step_floor = cpu_mlp_step_floor, .set_dataset = cpu_mlp_set_dataset,                            \
  .train_steps = cpu_mlp_train_steps

// z (B, V) logits -> softmax probabilities in place, row by row (forward()'s output)
void cpu_mlp_softmax_rows(float *z, int B, int V);

/* Checks a spec for sizes a backend can allocate; 0 if fine, else writes why. */
int cpu_mlp_check_spec(const mlp_spec *s, char *err, size_t len);

#endif
