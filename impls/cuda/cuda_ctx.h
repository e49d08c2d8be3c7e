/* cuda_ctx.h: the CUDA backend's private context, shared by its two translation units
 * (cuda_mlp.cu: the context, the interface and the cublas path; cuda_fused.cu: the fused
 * path and the tiny-net kernel). C++ only; everything lives in CUDA_NS, so the emulated build
 * and the GPU build link into one program without a clash. Device pointers never leave. */
#ifndef MLPB_CUDA_CTX_H
#define MLPB_CUDA_CTX_H

#include "compat.h"
#if !MLPB_EMULATED
#include <cublas_v2.h>
#endif
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "cuda_mlp.h"

namespace CUDA_NS {

#include "device_math.cuh"

enum { PATH_CUBLAS = 0, PATH_FUSED = 1 };

struct cuda_mlp {
  mlp_spec spec;
  mlp_options opt;
  size_t n_params, off[4];
  cudaStream_t stream;
#if !MLPB_EMULATED
  cublasHandle_t blas;
  cudaGraphExec_t graph;
  cudaGraphExec_t floor_graph[2]; /* gemm_floor's captured products, for two batch sizes */
  int floor_batch[2];
#endif
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
  float *data_t; /* resident regression targets (n_data, n_out), fused path only */
  int n_data;
  int graph_batch, graph_zero, graph_off;
  const void *graph_idx, *graph_data; /* buffers the captured graph reads */
  /* the fused path */
  int path;          /* PATH_CUBLAS or PATH_FUSED: what runs */
  int fused_blocks;  /* thread blocks: fused_split per slice of fused_slice hidden units */
  int fused_slice;   /* hidden units per slice (MLPBENCH_FUSED_SLICE) */
  int fused_split;   /* blocks per slice (MLPBENCH_FUSED_SPLIT) */
  int cooperative;   /* one cooperative launch per epoch (else two launches per step) */
  int tiny;          /* the resident set trains in tiny_train_kernel (one warp) */
  size_t dz_bytes;   /* the backward phase's dynamic shared memory */
  float *zbuf;       /* 3 x (max_batch, n_out) logits accumulators */
  float *wcopy;      /* per block: its step's copy of W2[J, :] and b1[J] */
  unsigned *meet;    /* per slice: the slice's barrier counter */
  float *adam_tab;   /* 2 floats per step of a train_steps call (Adam's coefficients) */
  size_t adam_cap;   /* its room, in steps */
  char fallback[96]; /* why the fused path was asked for and not taken, "" otherwise */
  char err[512];
};

void set_err(cuda_mlp *c, const char *fmt, ...);
const char *base_name(const char *path);

/* Every CUDA and cuBLAS call goes through these: file:line and the library's words. */
#define CU(call)                                                                                   \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      set_err(c, "%s:%d: %s: %s", base_name(__FILE__), __LINE__, #call, cudaGetErrorString(e_));   \
      return -1;                                                                                   \
    }                                                                                              \
  } while (0)
#define CB(call)                                                                                   \
  do {                                                                                             \
    cublasStatus_t s_ = (call);                                                                    \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                             \
      set_err(c, "%s:%d: %s: %s", base_name(__FILE__), __LINE__, #call,                            \
              cublasGetStatusString(s_));                                                          \
      return -1;                                                                                   \
    }                                                                                              \
  } while (0)
#define LAUNCHED() CU(cudaGetLastError())

static inline unsigned grid_for(size_t n, int threads) {
  return (unsigned)((n + threads - 1) / threads);
}

/* cuda_mlp.cu, used by the fused path too */
int enqueue_update(cuda_mlp *c);
int enqueue_eval_output(cuda_mlp *c, int B);
int read_steps_result(cuda_mlp *c, int steps, mlp_steps_out *out);

/* cuda_fused.cu */
int fused_plan(cuda_mlp *c);  /* at create: 0 and c->path set, or -1 on a CUDA error */
int fused_alloc(cuda_mlp *c); /* the fused path's buffers */
int fused_forward_backward(cuda_mlp *c, int B); /* c->x, c->labels / c->y hold the batch */
int fused_forward(cuda_mlp *c, int B);          /* logits of c->x into c->z2 */
int fused_set_targets(cuda_mlp *c, const float *t, int n); /* resident regression targets */
int fused_train_steps(cuda_mlp *c, int n_idx, int batch, int zero_grad); /* c->idx uploaded */
void fused_describe(const cuda_mlp *c, char *buf, size_t len);

} // namespace CUDA_NS

#endif
