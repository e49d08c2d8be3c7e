/* cuda_mlp.cu: the CUDA backend's context, its interface, and the cublas path: cuBLAS SGEMM
 * for the three layer products (row-major through the transposition identity) and our own
 * kernels (kernels.cuh) for the rest. The training set stays on the device; an epoch uploads
 * one index list, replays one captured CUDA graph per batch and reads back one small struct
 * (loss, divergence step). The fused path lives in cuda_fused.cu.
 *
 * The emulated build (MLPB_CUDA_EMU, g++ over the HIP CPU runtime) compiles this same file.
 * It has no cuBLAS and no graphs: gemm_plain_kernel stands in for the three products and the
 * steps run as plain launches, the fallback a GPU takes when capture fails. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_ctx.h"

#define WORKSPACE_BYTES ((size_t)32 << 20)

namespace CUDA_NS {

#include "kernels.cuh"

void set_err(cuda_mlp *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
}

const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* ---- row-major GEMMs ---- */
#if MLPB_EMULATED
// C (M, N) = op(A) op(B) (+ C when acc), row-major, op(X) = X^T where ta / tb. Emulated
// build only: it stands in for cuBLAS, which has no CPU version.
__global__ void gemm_plain_kernel(float *C, const float *A, const float *B, int M, int N, int K,
                                  int ta, int tb, int acc) {
  size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (e >= (size_t)M * N) return;
  int i = (int)(e / N), j = (int)(e % N);
  float s = 0.0f;
  for (int k = 0; k < K; k++)
    s += (ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k]) *
         (tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j]);
  C[e] = acc ? C[e] + s : s;
}

static int gemm(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N, int K, int ta,
                int tb, int acc) {
  LAUNCH(gemm_plain_kernel, grid_for((size_t)M * N, 256), 256, 0, c->stream, C, A, B, M, N, K, ta,
         tb, acc);
  LAUNCHED();
  return 0;
}

// C (M, N) = A (M, K) @ B (K, N)
static int matmul_nn(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N, int K) {
  return gemm(c, C, A, B, M, N, K, 0, 0, 0);
}

// C (M, N) += A^T @ B, A (K, M), B (K, N)
static int matmul_tn_acc(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N,
                         int K) {
  return gemm(c, C, A, B, M, N, K, 1, 0, 1);
}

// C (M, N) = A (M, K) @ B^T, B (N, K)
static int matmul_nt(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N, int K) {
  return gemm(c, C, A, B, M, N, K, 0, 1, 0);
}
#else
/* cuBLAS is column-major: C^T = B^T A^T gives the row-major products */

// C (M, N) = A (M, K) @ B (K, N)
static int matmul_nn(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N, int K) {
  const float one = 1.0f, zero = 0.0f;
  CB(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, N, A, K, &zero, C, N));
  return 0;
}

// C (M, N) += A^T @ B, A (K, M), B (K, N)
static int matmul_tn_acc(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N,
                         int K) {
  const float one = 1.0f;
  CB(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_T, N, M, K, &one, B, N, A, M, &one, C, N));
  return 0;
}

// C (M, N) = A (M, K) @ B^T, B (N, K)
static int matmul_nt(cuda_mlp *c, float *C, const float *A, const float *B, int M, int N, int K) {
  const float one = 1.0f, zero = 0.0f;
  CB(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, B, K, A, K, &zero, C, N));
  return 0;
}
#endif

/* ---- the layer pair, enqueued on c->stream (the cublas path) ---- */

// h (B, H) = act(x W1 + b1); z2 (B, O) = h W2 + b2
static int enqueue_forward(cuda_mlp *c, const float *x, int B) {
  const mlp_spec *s = &c->spec;
  float *W1 = c->params + c->off[0], *b1 = c->params + c->off[1];
  float *W2 = c->params + c->off[2], *b2 = c->params + c->off[3];
  size_t nh = (size_t)B * s->n_hidden, no = (size_t)B * s->n_out;
  if (matmul_nn(c, c->h, x, W1, B, s->n_hidden, s->n_in)) return -1;
  LAUNCH(bias_act_forward_kernel, grid_for(nh, 256), 256, 0, c->stream, c->h, b1, B, s->n_hidden,
         (int)s->act);
  LAUNCHED();
  if (matmul_nn(c, c->z2, c->h, W2, B, s->n_out, s->n_hidden)) return -1;
  LAUNCH(bias_act_forward_kernel, grid_for(no, 256), 256, 0, c->stream, c->z2, b2, B, s->n_out,
         ACT_NONE);
  LAUNCHED();
  return 0;
}

static int enqueue_loss(cuda_mlp *c, int B) {
  const mlp_spec *s = &c->spec;
  if (s->loss == MLP_LOSS_SOFTMAX_CE)
    LAUNCH(softmax_xent_forward_backward_kernel, grid_for((size_t)B, 8), 256, 0, c->stream, c->dz2,
           c->z2, c->labels, B, s->n_out, c->st);
  else
    LAUNCH(sigmoid_se_forward_backward_kernel, grid_for((size_t)B * s->n_out, 256), 256, 0,
           c->stream, c->dz2, c->z2, c->y, B * s->n_out, c->st);
  LAUNCHED();
  return 0;
}

// given dz2 (B, O): accumulate dW2, db2, dW1, db1
static int enqueue_backward(cuda_mlp *c, const float *x, int B) {
  const mlp_spec *s = &c->spec;
  float *W2 = c->params + c->off[2];
  float *dW1 = c->grads + c->off[0], *db1 = c->grads + c->off[1];
  float *dW2 = c->grads + c->off[2], *db2 = c->grads + c->off[3];
  dim3 blk(32, 8);
  if (matmul_tn_acc(c, dW2, c->h, c->dz2, s->n_hidden, s->n_out, B)) return -1;
  LAUNCH(act_bias_backward_kernel, grid_for((size_t)s->n_out, 32), blk, 0, c->stream, c->dz2,
         (const float *)NULL, db2, B, s->n_out, ACT_NONE);
  LAUNCHED();
  if (matmul_nt(c, c->dh, c->dz2, W2, B, s->n_hidden, s->n_out)) return -1;
  LAUNCH(act_bias_backward_kernel, grid_for((size_t)s->n_hidden, 32), blk, 0, c->stream, c->dh,
         (const float *)c->h, db1, B, s->n_hidden, (int)s->act);
  LAUNCHED();
  return matmul_tn_acc(c, dW1, x, c->dh, s->n_in, s->n_hidden, B);
}

int enqueue_update(cuda_mlp *c) {
  const mlp_spec *s = &c->spec;
  unsigned g = grid_for(c->n_params, 256);
  if (s->opt == MLP_OPT_ADAM) {
    LAUNCH(adam_prepare_kernel, 1, 1, 0, c->stream, c->st, s->lr, s->beta1, s->beta2);
    LAUNCHED();
    LAUNCH(adam_update_kernel, g, 256, 0, c->stream, c->params, (const float *)c->grads, c->m, c->v,
           c->n_params, s->beta1, s->beta2, s->eps, (const dev_state *)c->st);
  } else {
    LAUNCH(sgd_update_kernel, g, 256, 0, c->stream, c->params, (const float *)c->grads, c->n_params,
           s->lr);
  }
  LAUNCHED();
  return 0;
}

/* probabilities (softmax) or outputs (sigmoid) of the logits in c->z2, in place */
int enqueue_eval_output(cuda_mlp *c, int B) {
  const mlp_spec *s = &c->spec;
  if (s->loss == MLP_LOSS_SOFTMAX_CE)
    LAUNCH(softmax_forward_kernel, grid_for((size_t)B, 8), 256, 0, c->stream, c->z2, B, s->n_out);
  else
    LAUNCH(sigmoid_forward_kernel, grid_for((size_t)B * s->n_out, 256), 256, 0, c->stream, c->z2,
           (size_t)B * s->n_out);
  LAUNCHED();
  return 0;
}

/* One training step on the resident set: B rows starting at idx[step * batch]. */
static int enqueue_train_step(cuda_mlp *c, int B, int batch, int zero_grad) {
  if (zero_grad) CU(cudaMemsetAsync(c->grads, 0, c->n_params * sizeof(float), c->stream));
  size_t nx = (size_t)B * c->spec.n_in;
  LAUNCH(gather_kernel, grid_for(nx, 256), 256, 0, c->stream, c->x, c->labels,
         (const float *)c->data_x, (const int32_t *)c->data_y, (const int32_t *)c->idx,
         (const dev_state *)c->st, batch, B, c->spec.n_in);
  LAUNCHED();
  if (enqueue_forward(c, c->x, B) || enqueue_loss(c, B) || enqueue_backward(c, c->x, B) ||
      enqueue_update(c))
    return -1;
  LAUNCH(step_end_kernel, 1, 1, 0, c->stream, c->st);
  LAUNCHED();
  return 0;
}

#if MLPB_EMULATED
static void build_graph(cuda_mlp *c, int, int) {
  c->graph_off = 1; /* no graphs to capture: every step is plain launches */
}
#else
/* Captures one full-batch step; where capture is impossible, steps run as plain launches. */
static void build_graph(cuda_mlp *c, int batch, int zero_grad) {
  cudaGraph_t g = NULL;
  if (c->graph) cudaGraphExecDestroy(c->graph);
  c->graph = NULL;
  if (cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
    cudaGetLastError();
    c->graph_off = 1;
    return;
  }
  int rc = enqueue_train_step(c, batch, batch, zero_grad);
  cudaError_t e = cudaStreamEndCapture(c->stream, &g);
  if (rc == 0 && e == cudaSuccess) e = cudaGraphInstantiate(&c->graph, g, 0);
  if (g) cudaGraphDestroy(g);
  if (rc || e != cudaSuccess) {
    cudaGetLastError(); /* clear the failed capture; plain launches take over */
    c->graph = NULL;
    c->graph_off = 1;
    return;
  }
  c->graph_batch = batch;
  c->graph_zero = zero_grad;
  c->graph_idx = c->idx;
  c->graph_data = c->data_x;
}
#endif

static int cublas_train_steps(cuda_mlp *c, int n_idx, int batch, int zero_grad) {
  const int full = n_idx / batch, rest = n_idx % batch;
#if !MLPB_EMULATED
  if (!c->graph_off && (!c->graph || c->graph_batch != batch || c->graph_zero != zero_grad ||
                        c->graph_idx != c->idx || c->graph_data != c->data_x))
    build_graph(c, batch, zero_grad);
  for (int s = 0; s < full; s++) {
    if (c->graph)
      CU(cudaGraphLaunch(c->graph, c->stream));
    else if (enqueue_train_step(c, batch, batch, zero_grad))
      return -1;
  }
#else
  build_graph(c, batch, zero_grad);
  for (int s = 0; s < full; s++)
    if (enqueue_train_step(c, batch, batch, zero_grad)) return -1;
#endif
  if (rest && enqueue_train_step(c, rest, batch, zero_grad)) return -1;
  return 0;
}

static int copy_sync(cuda_mlp *c, void *dst, const void *src, size_t n, cudaMemcpyKind kind) {
  CU(cudaMemcpyAsync(dst, src, n, kind, c->stream));
  CU(cudaStreamSynchronize(c->stream));
  return 0;
}

/* After `steps` steps from epoch_begin_kernel: the losses, and a divergence as an error. */
int read_steps_result(cuda_mlp *c, int steps, mlp_steps_out *out) {
  dev_state hs;
  if (copy_sync(c, &hs, c->st, sizeof hs, cudaMemcpyDeviceToHost)) return -1;
  out->mean_loss = hs.loss_sum / (float)steps;
  out->last_loss = hs.last_loss;
  if (hs.bad_step != INT_MAX || !isfinite(out->mean_loss)) {
    set_err(c,
            "training diverged: loss is NaN or infinite at step %d (learning rate %g too "
            "high, or bad input data)",
            (hs.bad_step != INT_MAX ? hs.bad_step : 0) + 1, c->spec.lr);
    return -1;
  }
  return 0;
}

static int check_spec(const mlp_spec *s, char *err, size_t len) {
  const long lim = 1L << 24;
  if (s->n_in < 1 || s->n_hidden < 1 || s->n_out < 1 || s->max_batch < 1 || s->n_in > lim ||
      s->n_hidden > lim || s->n_out > lim || s->max_batch > lim ||
      (double)s->n_in * s->n_hidden > 1e9 || (double)s->max_batch * s->n_in > 1e9 ||
      (double)s->max_batch * s->n_hidden > 1e9) {
    snprintf(err, len, "bad model size %d-%d-%d with batch %d", s->n_in, s->n_hidden, s->n_out,
             s->max_batch);
    return -1;
  }
  return 0;
}

/* The path asked for: "cublas", "fused", or NULL for this build's default. */
static int choose_path(const mlp_options *o, int *path, char *err, size_t len) {
  if (!o->path || !*o->path)
    *path = MLPB_EMULATED ? PATH_FUSED : PATH_CUBLAS;
  else if (strcmp(o->path, "cublas") == 0)
    *path = PATH_CUBLAS;
  else if (strcmp(o->path, "fused") == 0)
    *path = PATH_FUSED;
  else {
    snprintf(err, len, "unknown path '%.40s' (cublas, fused)", o->path);
    return -1;
  }
  if (*path == PATH_FUSED && o->tf32) {
    snprintf(err, len, "the fused path is FP32 only: no TF32 (use the cublas path)");
    return -1;
  }
  return 0;
}

static int alloc_all(cuda_mlp *c) {
  const mlp_spec *s = &c->spec;
  size_t B = (size_t)s->max_batch, np = c->n_params * sizeof(float);
  CU(cudaSetDevice(0));
  CU(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
#if !MLPB_EMULATED
  CB(cublasCreate(&c->blas));
  CB(cublasSetStream(c->blas, c->stream));
  /* FP32 unless asked: TF32 would change the gradients by ~1e-3 relative */
  CB(cublasSetMathMode(c->blas, c->opt.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  /* a fixed workspace keeps cuBLAS from allocating during graph capture */
  CU(cudaMalloc(&c->workspace, WORKSPACE_BYTES));
  CB(cublasSetWorkspace(c->blas, c->workspace, WORKSPACE_BYTES));
#endif
  CU(cudaEventCreate(&c->ev0));
  CU(cudaEventCreate(&c->ev1));
  CU(cudaMalloc(&c->params, np));
  CU(cudaMalloc(&c->grads, np));
  CU(cudaMalloc(&c->m, np));
  CU(cudaMalloc(&c->v, np));
  CU(cudaMalloc(&c->x, B * s->n_in * sizeof(float)));
  CU(cudaMalloc(&c->y, B * s->n_out * sizeof(float)));
  CU(cudaMalloc(&c->labels, B * sizeof(int32_t)));
  CU(cudaMalloc(&c->h, B * s->n_hidden * sizeof(float)));
  CU(cudaMalloc(&c->dh, B * s->n_hidden * sizeof(float)));
  CU(cudaMalloc(&c->z2, B * s->n_out * sizeof(float)));
  CU(cudaMalloc(&c->dz2, B * s->n_out * sizeof(float)));
  CU(cudaMalloc(&c->st, sizeof(dev_state)));
  CU(cudaMemsetAsync(c->grads, 0, np, c->stream));
  CU(cudaMemsetAsync(c->m, 0, np, c->stream));
  CU(cudaMemsetAsync(c->v, 0, np, c->stream));
  CU(cudaMemsetAsync(c->st, 0, sizeof(dev_state), c->stream));
  if (c->path == PATH_FUSED && fused_alloc(c)) return -1;
  CU(cudaStreamSynchronize(c->stream));
  return 0;
}

} // namespace CUDA_NS

using namespace CUDA_NS;

/* ---- the interface ---- */

extern "C" int CUDA_API(available)(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    /* the runtime says "driver version is insufficient" when there is no driver at all;
     * cudaDriverGetVersion tells the two apart (0: no libcuda loaded) */
    int drv = 0, rt = 0;
    cudaGetLastError();
    if (e == cudaErrorInsufficientDriver && cudaDriverGetVersion(&drv) == cudaSuccess && drv == 0)
      snprintf(why, len, "no NVIDIA driver or GPU on this machine");
    else if (e == cudaErrorInsufficientDriver && cudaRuntimeGetVersion(&rt) == cudaSuccess)
      snprintf(why, len,
               "the NVIDIA driver (CUDA %d.%d) is older than this build's runtime (%d.%d)",
               drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
    else
      snprintf(why, len, "no usable CUDA device (%s)", cudaGetErrorString(e));
    cudaGetLastError();
    return 0;
  }
  if (n < 1) {
    snprintf(why, len, "no CUDA device");
    return 0;
  }
  if (len) why[0] = '\0';
  return 1;
}

extern "C" void CUDA_API(describe)(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  (void)self, (void)ctx;
  cudaDeviceProp p;
  int drv = 0, rt = 0;
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess || cudaDriverGetVersion(&drv) != cudaSuccess ||
      cudaRuntimeGetVersion(&rt) != cudaSuccess) {
    cudaGetLastError();
    snprintf(buf, len, "CUDA device 0 (properties unavailable)");
    return;
  }
#if MLPB_EMULATED
  snprintf(buf, len, "HIP CPU runtime on %d CPU threads: an emulation, its timings mean nothing",
           p.multiProcessorCount);
#else
  snprintf(buf, len, "%s, compute capability %d.%d, %.1f GiB; driver %d.%d, runtime %d.%d", p.name,
           p.major, p.minor, p.totalGlobalMem / 1073741824.0, drv / 1000, (drv % 1000) / 10,
           rt / 1000, (rt % 1000) / 10);
#endif
}

extern "C" void *CUDA_API(create)(const mlp_backend *self, const mlp_spec *spec,
                                  const mlp_options *opt, char *err, size_t len) {
  (void)self;
  int path;
  if (check_spec(spec, err, len) || choose_path(opt, &path, err, len)) return NULL;
  cuda_mlp *c = (cuda_mlp *)calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, len, "out of host memory");
    return NULL;
  }
  c->spec = *spec;
  c->opt = *opt;
  c->opt.path = NULL; /* the caller's string: decided above, not kept */
  c->n_params = mlp_param_count(spec);
  mlp_param_offsets(spec, c->off);
  c->path = path;
  if ((path == PATH_FUSED && fused_plan(c)) || alloc_all(c)) {
    snprintf(err, len, "%s", c->err);
    CUDA_API(destroy)(c);
    return NULL;
  }
  return c;
}

extern "C" void CUDA_API(destroy)(void *ctx) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  if (!c) return;
  if (c->stream) cudaStreamSynchronize(c->stream);
#if !MLPB_EMULATED
  if (c->graph) cudaGraphExecDestroy(c->graph);
  for (int i = 0; i < 2; i++)
    if (c->floor_graph[i]) cudaGraphExecDestroy(c->floor_graph[i]);
  if (c->blas) cublasDestroy(c->blas);
#endif
  void *bufs[] = {c->params, c->grads,  c->m,    c->v,        c->x,         c->y,     c->labels,
                  c->h,      c->dh,     c->z2,   c->dz2,      c->st,        c->idx,   c->data_x,
                  c->data_y, c->data_t, c->zbuf, c->adam_tab, c->workspace, c->wcopy, c->meet};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (bufs[i]) cudaFree(bufs[i]);
  if (c->ev0) cudaEventDestroy(c->ev0);
  if (c->ev1) cudaEventDestroy(c->ev1);
  if (c->stream) cudaStreamDestroy(c->stream);
  cudaGetLastError();
  free(c);
}

extern "C" const char *CUDA_API(error)(void *ctx) {
  return ((cuda_mlp *)ctx)->err;
}

/* Loads the weights and starts training afresh: gradients, Adam's moments and step count
 * cleared (the interface's contract, so one context serves several runs). */
extern "C" int CUDA_API(set_params)(void *ctx, const float *flat) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const size_t np = c->n_params * sizeof(float);
  CU(cudaMemsetAsync(c->grads, 0, np, c->stream));
  CU(cudaMemsetAsync(c->m, 0, np, c->stream));
  CU(cudaMemsetAsync(c->v, 0, np, c->stream));
  CU(cudaMemsetAsync(c->st, 0, sizeof(dev_state), c->stream));
  return copy_sync(c, c->params, flat, np, cudaMemcpyHostToDevice);
}

extern "C" int CUDA_API(get_params)(void *ctx, float *flat) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  return copy_sync(c, flat, c->params, c->n_params * sizeof(float), cudaMemcpyDeviceToHost);
}

extern "C" int CUDA_API(get_grads)(void *ctx, float *flat) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  return copy_sync(c, flat, c->grads, c->n_params * sizeof(float), cudaMemcpyDeviceToHost);
}

extern "C" int CUDA_API(zero_grads)(void *ctx) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  CU(cudaMemsetAsync(c->grads, 0, c->n_params * sizeof(float), c->stream));
  return 0;
}

static int upload_batch(cuda_mlp *c, const mlp_batch *b) {
  const mlp_spec *s = &c->spec;
  if (b->n < 1 || b->n > s->max_batch) {
    set_err(c, "batch of %d outside 1..%d", b->n, s->max_batch);
    return -1;
  }
  if (s->loss == MLP_LOSS_SOFTMAX_CE) {
    for (int i = 0; i < b->n; i++)
      if (b->labels[i] < 0 || b->labels[i] >= s->n_out) {
        set_err(c, "label %d of batch row %d outside 0..%d", b->labels[i], i, s->n_out - 1);
        return -1;
      }
    CU(cudaMemcpyAsync(c->labels, b->labels, b->n * sizeof(int32_t), cudaMemcpyHostToDevice,
                       c->stream));
  } else {
    CU(cudaMemcpyAsync(c->y, b->y, (size_t)b->n * s->n_out * sizeof(float), cudaMemcpyHostToDevice,
                       c->stream));
  }
  CU(cudaMemcpyAsync(c->x, b->x, (size_t)b->n * s->n_in * sizeof(float), cudaMemcpyHostToDevice,
                     c->stream));
  return 0;
}

extern "C" int CUDA_API(forward_backward)(void *ctx, const mlp_batch *b, float *loss) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  if (upload_batch(c, b)) return -1;
  LAUNCH(epoch_begin_kernel, 1, 1, 0, c->stream, c->st);
  LAUNCHED();
  if (c->path == PATH_FUSED) {
    if (fused_forward_backward(c, b->n)) return -1;
  } else {
    if (enqueue_forward(c, c->x, b->n) || enqueue_loss(c, b->n) || enqueue_backward(c, c->x, b->n))
      return -1;
    LAUNCH(step_end_kernel, 1, 1, 0, c->stream, c->st);
    LAUNCHED();
  }
  if (loss) return copy_sync(c, loss, &c->st->last_loss, sizeof(float), cudaMemcpyDeviceToHost);
  return 0;
}

extern "C" int CUDA_API(step)(void *ctx) {
  return enqueue_update((cuda_mlp *)ctx);
}

extern "C" int CUDA_API(forward)(void *ctx, const float *x, int n, float *out) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const mlp_spec *s = &c->spec;
  for (int at = 0; at < n; at += s->max_batch) {
    int B = n - at < s->max_batch ? n - at : s->max_batch;
    CU(cudaMemcpyAsync(c->x, x + (size_t)at * s->n_in, (size_t)B * s->n_in * sizeof(float),
                       cudaMemcpyHostToDevice, c->stream));
    if (c->path == PATH_FUSED ? fused_forward(c, B) : enqueue_forward(c, c->x, B)) return -1;
    if (enqueue_eval_output(c, B) ||
        copy_sync(c, out + (size_t)at * s->n_out, c->z2, (size_t)B * s->n_out * sizeof(float),
                  cudaMemcpyDeviceToHost))
      return -1;
  }
  return 0;
}

extern "C" void CUDA_API(path)(void *ctx, char *buf, size_t len) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  if (c->path == PATH_FUSED)
    fused_describe(c, buf, len);
  else if (MLPB_EMULATED)
    snprintf(buf, len, "cublas (emulated: a plain GEMM kernel)");
  else
    snprintf(buf, len, "cublas+graph%s%s", c->fallback[0] ? "; fused: " : "", c->fallback);
}

extern "C" int CUDA_API(set_dataset)(void *ctx, const float *x, const int32_t *labels,
                                     const float *targets, int n) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const mlp_spec *s = &c->spec;
  const int softmax = s->loss == MLP_LOSS_SOFTMAX_CE;
  /* the cublas path trains resident on class labels only: regression goes step by step */
  if (softmax ? !labels || targets : !targets || labels || c->path != PATH_FUSED) return 1;
  for (int i = 0; softmax && i < n; i++)
    if (labels[i] < 0 || labels[i] >= s->n_out) {
      set_err(c, "label %d of sample %d outside 0..%d", labels[i], i, s->n_out - 1);
      return -1;
    }
  size_t bytes = (size_t)n * s->n_in * sizeof(float);
  void *old[] = {c->data_x, c->data_y, c->data_t};
  for (int i = 0; i < 3; i++)
    if (old[i]) cudaFree(old[i]);
  c->data_x = NULL;
  c->data_y = NULL;
  c->data_t = NULL;
  c->n_data = 0;
  if (cudaMalloc(&c->data_x, bytes) != cudaSuccess ||
      (softmax && cudaMalloc(&c->data_y, (size_t)n * sizeof(int32_t)) != cudaSuccess)) {
    cudaGetLastError();
    set_err(c, "out of device memory: the data set needs %.1f MiB", bytes / 1048576.0);
    return -1;
  }
  CU(cudaMemcpyAsync(c->data_x, x, bytes, cudaMemcpyHostToDevice, c->stream));
  if (softmax)
    CU(cudaMemcpyAsync(c->data_y, labels, (size_t)n * sizeof(int32_t), cudaMemcpyHostToDevice,
                       c->stream));
  else if (fused_set_targets(c, targets, n))
    return -1;
  CU(cudaStreamSynchronize(c->stream));
  c->n_data = n;
  return 0;
}

extern "C" int CUDA_API(train_steps)(void *ctx, const int32_t *idx, int n_idx, int batch,
                                     int zero_grad, mlp_steps_out *out) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  if (!c->data_x) {
    set_err(c, "train_steps before set_dataset");
    return -1;
  }
  if (batch < 1 || batch > c->spec.max_batch || n_idx < 1) {
    set_err(c, "batch %d (max %d) or %d indices out of range", batch, c->spec.max_batch, n_idx);
    return -1;
  }
  for (int i = 0; i < n_idx; i++)
    if (idx[i] < 0 || idx[i] >= c->n_data) {
      set_err(c, "index %d outside the %d resident samples", idx[i], c->n_data);
      return -1;
    }
  if ((size_t)n_idx > c->idx_cap) {
    if (c->idx) CU(cudaFree(c->idx));
    c->idx = NULL;
    CU(cudaMalloc(&c->idx, (size_t)n_idx * sizeof(int32_t)));
    c->idx_cap = (size_t)n_idx;
  }
  CU(cudaEventRecord(c->ev0, c->stream));
  CU(cudaMemcpyAsync(c->idx, idx, (size_t)n_idx * sizeof(int32_t), cudaMemcpyHostToDevice,
                     c->stream));
  LAUNCH(epoch_begin_kernel, 1, 1, 0, c->stream, c->st);
  LAUNCHED();
  if (c->path == PATH_FUSED ? fused_train_steps(c, n_idx, batch, zero_grad)
                            : cublas_train_steps(c, n_idx, batch, zero_grad))
    return -1;
  CU(cudaEventRecord(c->ev1, c->stream));
  if (read_steps_result(c, (n_idx + batch - 1) / batch, out)) return -1;
  float ms = 0.0f;
  CU(cudaEventElapsedTime(&ms, c->ev0, c->ev1));
  out->device_seconds = MLPB_EMULATED ? -1.0 : ms / 1e3;
  return 0;
}

#if !MLPB_EMULATED
/* The five products of a step for `batch`, captured once as a graph. */
static int capture_gemms(cuda_mlp *c, int batch, cudaGraphExec_t *ex) {
  const mlp_spec *s = &c->spec;
  float *W1 = c->params + c->off[0], *W2 = c->params + c->off[2];
  float *dW1 = c->grads + c->off[0], *dW2 = c->grads + c->off[2];
  cudaGraph_t g = NULL;
  CU(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
  int rc = matmul_nn(c, c->h, c->x, W1, batch, s->n_hidden, s->n_in) ||
           matmul_nn(c, c->z2, c->h, W2, batch, s->n_out, s->n_hidden) ||
           matmul_tn_acc(c, dW2, c->h, c->dz2, s->n_hidden, s->n_out, batch) ||
           matmul_nt(c, c->dh, c->dz2, W2, batch, s->n_hidden, s->n_out) ||
           matmul_tn_acc(c, dW1, c->x, c->dh, s->n_in, s->n_hidden, batch);
  cudaError_t e = cudaStreamEndCapture(c->stream, &g);
  if (!rc && e == cudaSuccess) e = cudaGraphInstantiate(ex, g, 0);
  if (g) cudaGraphDestroy(g);
  if (rc) return -1;
  CU(e);
  return 0;
}

/* gemm_floor's graph for `batch`: captured and warmed up once (the full batch and the short
 * last one each get a slot), so each later call times the products alone. The buffers are
 * zeroed before the first capture so no NaN or subnormal slows a product. */
static int floor_graph(cuda_mlp *c, int batch, cudaGraphExec_t *ex) {
  const size_t B = (size_t)c->spec.max_batch;
  for (int i = 0; i < 2; i++)
    if (c->floor_graph[i] && c->floor_batch[i] == batch) {
      *ex = c->floor_graph[i];
      return 0;
    }
  int slot = c->floor_graph[0] ? 1 : 0;
  if (c->floor_graph[slot]) CU(cudaGraphExecDestroy(c->floor_graph[slot]));
  c->floor_graph[slot] = NULL;
  if (slot == 0) { /* the first capture */
    CU(cudaMemsetAsync(c->x, 0, B * c->spec.n_in * sizeof(float), c->stream));
    CU(cudaMemsetAsync(c->h, 0, B * c->spec.n_hidden * sizeof(float), c->stream));
    CU(cudaMemsetAsync(c->dh, 0, B * c->spec.n_hidden * sizeof(float), c->stream));
    CU(cudaMemsetAsync(c->dz2, 0, B * c->spec.n_out * sizeof(float), c->stream));
  }
  if (capture_gemms(c, batch, &c->floor_graph[slot])) return -1;
  c->floor_batch[slot] = batch;
  CU(cudaGraphLaunch(c->floor_graph[slot], c->stream)); /* warm-up: cuBLAS loads its kernels */
  CU(cudaStreamSynchronize(c->stream));
  *ex = c->floor_graph[slot];
  return 0;
}

/* The floor under an epoch: the step's cuBLAS calls alone, one graph replayed per step,
 * timed with events (the harness times the call on the wall clock; the events are kept for
 * the contract's second figure). */
extern "C" int CUDA_API(gemm_floor)(void *ctx, int batch, int steps, double *seconds) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const mlp_spec *s = &c->spec;
  cudaGraphExec_t ex = NULL;
  float ms = 0.0f;
  if (batch < 1 || batch > s->max_batch || steps < 0) {
    set_err(c, "batch %d (max %d) or %d steps out of range", batch, s->max_batch, steps);
    return -1;
  }
  if (floor_graph(c, batch, &ex)) return -1;
  CU(cudaEventRecord(c->ev0, c->stream));
  for (int i = 0; i < steps; i++)
    CU(cudaGraphLaunch(ex, c->stream));
  CU(cudaEventRecord(c->ev1, c->stream));
  CU(cudaEventSynchronize(c->ev1));
  CU(cudaEventElapsedTime(&ms, c->ev0, c->ev1));
  *seconds = ms / 1e3;
  return 0;
}
#endif

#if !MLPB_EMULATED
extern "C" int CUDA_API(device_memory)(void *ctx, double *bytes) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  size_t free_b = 0, total = 0;
  CU(cudaMemGetInfo(&free_b, &total));
  *bytes = (double)(total - free_b);
  return 0;
}
#endif

extern "C" int CUDA_API(sync)(void *ctx) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  CU(cudaStreamSynchronize(c->stream));
  return 0;
}
