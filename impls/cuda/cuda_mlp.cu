/* cuda_mlp.cu: the CUDA backend. cuBLAS SGEMM for the three layer products (row-major
 * through the transposition identity), our own kernels for the rest, fused where it saves
 * a pass over memory. Kernel names follow the CPU functions in impls/common/cpu_mlp.c:
 *   bias_forward + relu/sigmoid_forward   -> bias_act_forward_kernel
 *   relu/sigmoid_backward + bias_backward -> act_bias_backward_kernel
 *   softmax_xent_forward_backward         -> softmax_xent_forward_backward_kernel
 *   sigmoid_se_forward_backward           -> sigmoid_se_forward_backward_kernel
 *   sgd_update, adam_update               -> sgd_update_kernel, adam_update_kernel
 * The training set stays on the device; an epoch uploads one index list, replays one
 * captured CUDA graph per batch and reads back one small struct (loss, divergence step). */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_mlp.h"

#define ACT_NONE (-1)
#define WORKSPACE_BYTES ((size_t)32 << 20)

/* Device-side step state: a captured graph reads its step from here, not from arguments. */
struct dev_state {
  float loss_sum; /* sum of batch losses since the last reset */
  int bad_step;   /* first step with a non-finite loss, INT_MAX if none */
  int step;       /* step within the current epoch (indexes the epoch's index list) */
  int pad;
  long long t;     /* Adam step count */
  float step_size; /* lr / (1 - beta1^t) */
  float bc2_sqrt;  /* sqrt(1 - beta2^t) */
};

struct cuda_mlp {
  mlp_spec spec;
  mlp_options opt;
  size_t n_params, off[4];
  cudaStream_t stream;
  cublasHandle_t blas;
  void *workspace;
  cudaEvent_t ev0, ev1;
  float *params, *grads, *m, *v; /* flat W1 b1 W2 b2 */
  float *x, *y;                  /* x (B, n_in), y (B, n_out) */
  int32_t *labels;               /* labels (B) */
  float *h, *dh;                 /* (B, n_hidden) */
  float *z2, *dz2;               /* (B, n_out) */
  dev_state *st;
  int32_t *idx; /* the epoch's index list */
  size_t idx_cap;
  float *data_x; /* resident training set (n_data, n_in) */
  int32_t *data_y;
  int n_data;
  cudaGraphExec_t graph;
  int graph_batch, graph_zero, graph_off;
  const void *graph_idx, *graph_data; /* buffers the captured graph reads */
  char err[512];
};

static void set_err(cuda_mlp *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
}

static const char *base(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Every CUDA and cuBLAS call goes through these: file:line and the library's words. */
#define CU(call)                                                                                   \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      set_err(c, "%s:%d: %s: %s", base(__FILE__), __LINE__, #call, cudaGetErrorString(e_));        \
      return -1;                                                                                   \
    }                                                                                              \
  } while (0)
#define CB(call)                                                                                   \
  do {                                                                                             \
    cublasStatus_t s_ = (call);                                                                    \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                             \
      set_err(c, "%s:%d: %s: %s", base(__FILE__), __LINE__, #call, cublasGetStatusString(s_));     \
      return -1;                                                                                   \
    }                                                                                              \
  } while (0)
#define LAUNCHED() CU(cudaGetLastError())

static unsigned grid_for(size_t n, int threads) {
  return (unsigned)((n + threads - 1) / threads);
}

/* ---- kernels ---- */

// h (B, C) = act(h + bias)
__global__ void bias_act_forward_kernel(float *h, const float *bias, int B, int C, int act) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= (size_t)B * C) return;
  float v = h[i] + bias[i % C];
  if (act == MLP_ACT_RELU)
    v = v > 0.0f ? v : 0.0f;
  else if (act == MLP_ACT_SIGMOID)
    v = 1.0f / (1.0f + expf(-v));
  h[i] = v;
}

// dh (B, C) *= act'(h), dbias (C) += sum over rows of dh. Block (32, 8): 32 columns,
// 8 row lanes, summed in shared memory. act == ACT_NONE only reduces (the output bias).
__global__ void act_bias_backward_kernel(float *dh, const float *h, float *dbias, int B, int C,
                                         int act) {
  __shared__ float part[8][33];
  int j = blockIdx.x * 32 + threadIdx.x;
  float s = 0.0f;
  if (j < C)
    for (int b = threadIdx.y; b < B; b += 8) {
      size_t i = (size_t)b * C + j;
      float d = dh[i];
      if (act == MLP_ACT_RELU)
        d = h[i] > 0.0f ? d : 0.0f;
      else if (act == MLP_ACT_SIGMOID)
        d *= h[i] * (1.0f - h[i]);
      if (act != ACT_NONE) dh[i] = d;
      s += d;
    }
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && j < C) {
    float t = 0.0f;
    for (int r = 0; r < 8; r++)
      t += part[r][threadIdx.x];
    dbias[j] += t;
  }
}

// One warp per row: dlogits (B, V) = (softmax(z) - onehot) / B and the mean loss, without
// writing the probabilities anywhere.
__global__ void softmax_xent_forward_backward_kernel(float *dlogits, const float *logits,
                                                     const int32_t *labels, int B, int V,
                                                     dev_state *st) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= B) return; /* whole warps leave together */
  const float *z = logits + (size_t)row * V;
  float mx = -INFINITY, sum = 0.0f;
  for (int k = lane; k < V; k += 32)
    mx = fmaxf(mx, z[k]);
  for (int o = 16; o; o >>= 1)
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  for (int k = lane; k < V; k += 32)
    sum += expf(z[k] - mx);
  for (int o = 16; o; o >>= 1)
    sum += __shfl_xor_sync(0xffffffffu, sum, o);
  int y = labels[row];
  for (int k = lane; k < V; k += 32)
    dlogits[(size_t)row * V + k] = (expf(z[k] - mx) / sum - (k == y ? 1.0f : 0.0f)) / (float)B;
  if (lane == 0) {
    float l = logf(sum) + mx - z[y];
    atomicAdd(&st->loss_sum, l / (float)B);
    if (!isfinite(l)) atomicMin(&st->bad_step, st->step);
  }
}

// dlogits (n) = -(y - out) out (1 - out), out = sigmoid(z); loss += 0.5 (y - out)^2
__global__ void sigmoid_se_forward_backward_kernel(float *dlogits, const float *logits,
                                                   const float *y, int n, dev_state *st) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float out = 1.0f / (1.0f + expf(-logits[i])), e = y[i] - out, l = 0.5f * e * e;
  dlogits[i] = -e * out * (1.0f - out);
  atomicAdd(&st->loss_sum, l);
  if (!isfinite(l)) atomicMin(&st->bad_step, st->step);
}

// probs (B, V) = softmax(z) in place, for evaluation only
__global__ void softmax_forward_kernel(float *z, int B, int V) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= B) return;
  float *r = z + (size_t)row * V, mx = -INFINITY, sum = 0.0f;
  for (int k = lane; k < V; k += 32)
    mx = fmaxf(mx, r[k]);
  for (int o = 16; o; o >>= 1)
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  for (int k = lane; k < V; k += 32)
    sum += expf(r[k] - mx);
  for (int o = 16; o; o >>= 1)
    sum += __shfl_xor_sync(0xffffffffu, sum, o);
  for (int k = lane; k < V; k += 32)
    r[k] = expf(r[k] - mx) / sum;
}

__global__ void sigmoid_forward_kernel(float *x, size_t n) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < n) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

__global__ void sgd_update_kernel(float *p, const float *g, size_t n, float lr) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < n) p[i] -= lr * g[i];
}

// Adam's bias corrections, in double as PyTorch computes them, once per step on the
// device so that a captured graph replays correctly.
__global__ void adam_prepare_kernel(dev_state *st, float lr, float beta1, float beta2) {
  long long t = ++st->t;
  double bc1 = 1.0 - pow((double)beta1, (double)t), bc2 = 1.0 - pow((double)beta2, (double)t);
  st->step_size = (float)(lr / bc1);
  st->bc2_sqrt = (float)sqrt(bc2);
}

__global__ void adam_update_kernel(float *p, const float *g, float *m, float *v, size_t n,
                                   float beta1, float beta2, float eps, const dev_state *st) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= n) return;
  float gi = g[i];
  float mi = beta1 * m[i] + (1.0f - beta1) * gi;
  float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  p[i] -= st->step_size * mi / (sqrtf(vi) / st->bc2_sqrt + eps);
}

// x (B, n_in) and labels (B) from the resident set, rows idx[step * batch + b]
__global__ void gather_kernel(float *x, int32_t *labels, const float *data_x, const int32_t *data_y,
                              const int32_t *idx, const dev_state *st, int batch, int B, int n_in) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= (size_t)B * n_in) return;
  int b = (int)(i / n_in), k = (int)(i % n_in);
  int row = idx[(size_t)st->step * batch + b];
  x[i] = data_x[(size_t)row * n_in + k];
  if (k == 0) labels[b] = data_y[row];
}

__global__ void epoch_begin_kernel(dev_state *st) {
  st->loss_sum = 0.0f;
  st->bad_step = INT_MAX;
  st->step = 0;
}

__global__ void step_end_kernel(dev_state *st) {
  st->step++;
}

/* ---- row-major GEMMs through cuBLAS's column-major view (C^T = B^T A^T) ---- */

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

/* ---- the layer pair, enqueued on c->stream ---- */

// h (B, H) = act(x W1 + b1); z2 (B, O) = h W2 + b2
static int enqueue_forward(cuda_mlp *c, const float *x, int B) {
  const mlp_spec *s = &c->spec;
  float *W1 = c->params + c->off[0], *b1 = c->params + c->off[1];
  float *W2 = c->params + c->off[2], *b2 = c->params + c->off[3];
  size_t nh = (size_t)B * s->n_hidden, no = (size_t)B * s->n_out;
  if (matmul_nn(c, c->h, x, W1, B, s->n_hidden, s->n_in)) return -1;
  bias_act_forward_kernel<<<grid_for(nh, 256), 256, 0, c->stream>>>(c->h, b1, B, s->n_hidden,
                                                                    s->act);
  LAUNCHED();
  if (matmul_nn(c, c->z2, c->h, W2, B, s->n_out, s->n_hidden)) return -1;
  bias_act_forward_kernel<<<grid_for(no, 256), 256, 0, c->stream>>>(c->z2, b2, B, s->n_out,
                                                                    ACT_NONE);
  LAUNCHED();
  return 0;
}

static int enqueue_loss(cuda_mlp *c, int B) {
  const mlp_spec *s = &c->spec;
  if (s->loss == MLP_LOSS_SOFTMAX_CE)
    softmax_xent_forward_backward_kernel<<<grid_for((size_t)B, 8), 256, 0, c->stream>>>(
        c->dz2, c->z2, c->labels, B, s->n_out, c->st);
  else
    sigmoid_se_forward_backward_kernel<<<grid_for((size_t)B * s->n_out, 256), 256, 0, c->stream>>>(
        c->dz2, c->z2, c->y, B * s->n_out, c->st);
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
  act_bias_backward_kernel<<<grid_for((size_t)s->n_out, 32), blk, 0, c->stream>>>(
      c->dz2, NULL, db2, B, s->n_out, ACT_NONE);
  LAUNCHED();
  if (matmul_nt(c, c->dh, c->dz2, W2, B, s->n_hidden, s->n_out)) return -1;
  act_bias_backward_kernel<<<grid_for((size_t)s->n_hidden, 32), blk, 0, c->stream>>>(
      c->dh, c->h, db1, B, s->n_hidden, s->act);
  LAUNCHED();
  return matmul_tn_acc(c, dW1, x, c->dh, s->n_in, s->n_hidden, B);
}

static int enqueue_update(cuda_mlp *c) {
  const mlp_spec *s = &c->spec;
  unsigned g = grid_for(c->n_params, 256);
  if (s->opt == MLP_OPT_ADAM) {
    adam_prepare_kernel<<<1, 1, 0, c->stream>>>(c->st, s->lr, s->beta1, s->beta2);
    LAUNCHED();
    adam_update_kernel<<<g, 256, 0, c->stream>>>(c->params, c->grads, c->m, c->v, c->n_params,
                                                 s->beta1, s->beta2, s->eps, c->st);
  } else {
    sgd_update_kernel<<<g, 256, 0, c->stream>>>(c->params, c->grads, c->n_params, s->lr);
  }
  LAUNCHED();
  return 0;
}

/* One training step on the resident set: B rows starting at idx[step * batch]. */
static int enqueue_train_step(cuda_mlp *c, int B, int batch, int zero_grad) {
  if (zero_grad) CU(cudaMemsetAsync(c->grads, 0, c->n_params * sizeof(float), c->stream));
  size_t nx = (size_t)B * c->spec.n_in;
  gather_kernel<<<grid_for(nx, 256), 256, 0, c->stream>>>(c->x, c->labels, c->data_x, c->data_y,
                                                          c->idx, c->st, batch, B, c->spec.n_in);
  LAUNCHED();
  if (enqueue_forward(c, c->x, B) || enqueue_loss(c, B) || enqueue_backward(c, c->x, B) ||
      enqueue_update(c))
    return -1;
  step_end_kernel<<<1, 1, 0, c->stream>>>(c->st);
  LAUNCHED();
  return 0;
}

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

/* ---- the interface ---- */

extern "C" int cuda_mlp_available(char *why, size_t len) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
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

extern "C" void cuda_mlp_describe(char *buf, size_t len) {
  cudaDeviceProp p;
  int drv = 0, rt = 0;
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess || cudaDriverGetVersion(&drv) != cudaSuccess ||
      cudaRuntimeGetVersion(&rt) != cudaSuccess) {
    cudaGetLastError();
    snprintf(buf, len, "CUDA device 0 (properties unavailable)");
    return;
  }
  snprintf(buf, len, "%s, compute capability %d.%d, %.1f GiB; driver %d.%d, runtime %d.%d", p.name,
           p.major, p.minor, p.totalGlobalMem / 1073741824.0, drv / 1000, (drv % 1000) / 10,
           rt / 1000, (rt % 1000) / 10);
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

static int alloc_all(cuda_mlp *c) {
  const mlp_spec *s = &c->spec;
  size_t B = (size_t)s->max_batch, np = c->n_params * sizeof(float);
  CU(cudaSetDevice(0));
  CU(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
  CB(cublasCreate(&c->blas));
  CB(cublasSetStream(c->blas, c->stream));
  /* FP32 unless asked: TF32 would change the gradients by ~1e-3 relative */
  CB(cublasSetMathMode(c->blas, c->opt.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  /* a fixed workspace keeps cuBLAS from allocating during graph capture */
  CU(cudaMalloc(&c->workspace, WORKSPACE_BYTES));
  CB(cublasSetWorkspace(c->blas, c->workspace, WORKSPACE_BYTES));
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
  CU(cudaStreamSynchronize(c->stream));
  return 0;
}

extern "C" void *cuda_mlp_create(const mlp_spec *spec, const mlp_options *opt, char *err,
                                 size_t len) {
  if (check_spec(spec, err, len)) return NULL;
  cuda_mlp *c = (cuda_mlp *)calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, len, "out of host memory");
    return NULL;
  }
  c->spec = *spec;
  c->opt = *opt;
  c->n_params = mlp_param_count(spec);
  mlp_param_offsets(spec, c->off);
  if (alloc_all(c)) {
    snprintf(err, len, "%s", c->err);
    cuda_mlp_destroy(c);
    return NULL;
  }
  return c;
}

extern "C" void cuda_mlp_destroy(void *ctx) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  if (!c) return;
  if (c->stream) cudaStreamSynchronize(c->stream);
  if (c->graph) cudaGraphExecDestroy(c->graph);
  void *bufs[] = {c->params, c->grads, c->m,   c->v,  c->x,   c->y,      c->labels, c->h,
                  c->dh,     c->z2,    c->dz2, c->st, c->idx, c->data_x, c->data_y, c->workspace};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (bufs[i]) cudaFree(bufs[i]);
  if (c->blas) cublasDestroy(c->blas);
  if (c->ev0) cudaEventDestroy(c->ev0);
  if (c->ev1) cudaEventDestroy(c->ev1);
  if (c->stream) cudaStreamDestroy(c->stream);
  cudaGetLastError();
  free(c);
}

extern "C" const char *cuda_mlp_error(void *ctx) {
  return ((cuda_mlp *)ctx)->err;
}

static int copy_sync(cuda_mlp *c, void *dst, const void *src, size_t n, cudaMemcpyKind kind) {
  CU(cudaMemcpyAsync(dst, src, n, kind, c->stream));
  CU(cudaStreamSynchronize(c->stream));
  return 0;
}

extern "C" int cuda_mlp_set_params(void *ctx, const float *flat) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  return copy_sync(c, c->params, flat, c->n_params * sizeof(float), cudaMemcpyHostToDevice);
}

extern "C" int cuda_mlp_get_params(void *ctx, float *flat) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  return copy_sync(c, flat, c->params, c->n_params * sizeof(float), cudaMemcpyDeviceToHost);
}

extern "C" int cuda_mlp_get_grads(void *ctx, float *flat) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  return copy_sync(c, flat, c->grads, c->n_params * sizeof(float), cudaMemcpyDeviceToHost);
}

extern "C" int cuda_mlp_zero_grads(void *ctx) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  CU(cudaMemsetAsync(c->grads, 0, c->n_params * sizeof(float), c->stream));
  return 0;
}

extern "C" int cuda_mlp_forward_backward(void *ctx, const mlp_batch *b, float *loss) {
  cuda_mlp *c = (cuda_mlp *)ctx;
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
  CU(cudaMemsetAsync(&c->st->loss_sum, 0, sizeof(float), c->stream));
  if (enqueue_forward(c, c->x, b->n) || enqueue_loss(c, b->n) || enqueue_backward(c, c->x, b->n))
    return -1;
  if (loss) return copy_sync(c, loss, &c->st->loss_sum, sizeof(float), cudaMemcpyDeviceToHost);
  return 0;
}

extern "C" int cuda_mlp_step(void *ctx) {
  return enqueue_update((cuda_mlp *)ctx);
}

extern "C" int cuda_mlp_forward(void *ctx, const float *x, int n, float *out) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const mlp_spec *s = &c->spec;
  for (int at = 0; at < n; at += s->max_batch) {
    int B = n - at < s->max_batch ? n - at : s->max_batch;
    CU(cudaMemcpyAsync(c->x, x + (size_t)at * s->n_in, (size_t)B * s->n_in * sizeof(float),
                       cudaMemcpyHostToDevice, c->stream));
    if (enqueue_forward(c, c->x, B)) return -1;
    if (s->loss == MLP_LOSS_SOFTMAX_CE)
      softmax_forward_kernel<<<grid_for((size_t)B, 8), 256, 0, c->stream>>>(c->z2, B, s->n_out);
    else
      sigmoid_forward_kernel<<<grid_for((size_t)B * s->n_out, 256), 256, 0, c->stream>>>(
          c->z2, (size_t)B * s->n_out);
    LAUNCHED();
    if (copy_sync(c, out + (size_t)at * s->n_out, c->z2, (size_t)B * s->n_out * sizeof(float),
                  cudaMemcpyDeviceToHost))
      return -1;
  }
  return 0;
}

extern "C" void cuda_mlp_path(void *ctx, char *buf, size_t len) {
  (void)ctx;
  snprintf(buf, len, "cublas+graph");
}

extern "C" int cuda_mlp_set_dataset(void *ctx, const float *x, const int32_t *labels,
                                    const float *targets, int n) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const mlp_spec *s = &c->spec;
  /* resident training takes class labels only: regression targets go step by step */
  if (targets || !labels || s->loss != MLP_LOSS_SOFTMAX_CE) return 1;
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= s->n_out) {
      set_err(c, "label %d of sample %d outside 0..%d", labels[i], i, s->n_out - 1);
      return -1;
    }
  size_t bytes = (size_t)n * s->n_in * sizeof(float);
  if (c->data_x) cudaFree(c->data_x);
  if (c->data_y) cudaFree(c->data_y);
  c->data_x = NULL;
  c->data_y = NULL;
  c->n_data = 0;
  if (cudaMalloc(&c->data_x, bytes) != cudaSuccess ||
      cudaMalloc(&c->data_y, (size_t)n * sizeof(int32_t)) != cudaSuccess) {
    cudaGetLastError();
    set_err(c, "out of device memory: the data set needs %.1f MiB", bytes / 1048576.0);
    return -1;
  }
  CU(cudaMemcpyAsync(c->data_x, x, bytes, cudaMemcpyHostToDevice, c->stream));
  CU(cudaMemcpyAsync(c->data_y, labels, (size_t)n * sizeof(int32_t), cudaMemcpyHostToDevice,
                     c->stream));
  CU(cudaStreamSynchronize(c->stream));
  c->n_data = n;
  return 0;
}

extern "C" int cuda_mlp_train_steps(void *ctx, const int32_t *idx, int n_idx, int batch,
                                    int zero_grad, float *mean_loss, double *seconds) {
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
  if (!c->graph_off && (!c->graph || c->graph_batch != batch || c->graph_zero != zero_grad ||
                        c->graph_idx != c->idx || c->graph_data != c->data_x))
    build_graph(c, batch, zero_grad);
  const int full = n_idx / batch, rest = n_idx % batch;
  CU(cudaEventRecord(c->ev0, c->stream));
  CU(cudaMemcpyAsync(c->idx, idx, (size_t)n_idx * sizeof(int32_t), cudaMemcpyHostToDevice,
                     c->stream));
  epoch_begin_kernel<<<1, 1, 0, c->stream>>>(c->st);
  LAUNCHED();
  for (int s = 0; s < full; s++) {
    if (c->graph)
      CU(cudaGraphLaunch(c->graph, c->stream));
    else if (enqueue_train_step(c, batch, batch, zero_grad))
      return -1;
  }
  if (rest && enqueue_train_step(c, rest, batch, zero_grad)) return -1;
  CU(cudaEventRecord(c->ev1, c->stream));
  dev_state hs;
  if (copy_sync(c, &hs, c->st, sizeof hs, cudaMemcpyDeviceToHost)) return -1;
  float ms = 0.0f;
  CU(cudaEventElapsedTime(&ms, c->ev0, c->ev1));
  *seconds = ms / 1e3;
  *mean_loss = hs.loss_sum / (float)(full + (rest > 0));
  if (hs.bad_step != INT_MAX || !isfinite(*mean_loss)) {
    set_err(c,
            "training diverged: loss is NaN or infinite at step %d (learning rate %g too "
            "high, or bad input data)",
            (hs.bad_step != INT_MAX ? hs.bad_step : 0) + 1, c->spec.lr);
    return -1;
  }
  return 0;
}

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

/* The floor under an epoch: the step's cuBLAS calls alone, one graph replayed per step,
 * timed with events; the buffers are zeroed first so no NaN or subnormal slows a product. */
extern "C" int cuda_mlp_gemm_floor(void *ctx, int batch, int steps, double *seconds) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  const mlp_spec *s = &c->spec;
  cudaGraphExec_t ex = NULL;
  float ms = 0.0f;
  if (batch < 1 || batch > s->max_batch || steps < 0) {
    set_err(c, "batch %d (max %d) or %d steps out of range", batch, s->max_batch, steps);
    return -1;
  }
  const size_t B = (size_t)s->max_batch;
  CU(cudaMemsetAsync(c->x, 0, B * s->n_in * sizeof(float), c->stream));
  CU(cudaMemsetAsync(c->h, 0, B * s->n_hidden * sizeof(float), c->stream));
  CU(cudaMemsetAsync(c->dh, 0, B * s->n_hidden * sizeof(float), c->stream));
  CU(cudaMemsetAsync(c->dz2, 0, B * s->n_out * sizeof(float), c->stream));
  if (capture_gemms(c, batch, &ex)) return -1;
  cudaError_t e = cudaGraphLaunch(ex, c->stream); /* warm-up: cuBLAS picks and loads kernels */
  if (e == cudaSuccess) e = cudaEventRecord(c->ev0, c->stream);
  for (int i = 0; i < steps && e == cudaSuccess; i++)
    e = cudaGraphLaunch(ex, c->stream);
  if (e == cudaSuccess) e = cudaEventRecord(c->ev1, c->stream);
  if (e == cudaSuccess) e = cudaEventSynchronize(c->ev1);
  if (e == cudaSuccess) e = cudaEventElapsedTime(&ms, c->ev0, c->ev1);
  cudaGraphExecDestroy(ex);
  CU(e);
  *seconds = ms / 1e3;
  return 0;
}

extern "C" int cuda_mlp_sync(void *ctx) {
  cuda_mlp *c = (cuda_mlp *)ctx;
  CU(cudaStreamSynchronize(c->stream));
  return 0;
}
