/* cuda_fused.cu: the fused path's host side: whether a shape fits (at create), its buffers,
 * and the launches of fused.cuh's phases and tiny.cuh's one-warp trainer. On a GPU an epoch
 * is one cooperative launch; the emulated build launches the two phases of every step in
 * turn, the same device code without the grid barrier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_ctx.h"
#if !MLPB_EMULATED
#include <cooperative_groups.h>
#endif

namespace CUDA_NS {

#include "fused.cuh"
#include "tiny.cuh"

static opt_coef fused_coef(const mlp_spec *s) {
  opt_coef o = {s->opt == MLP_OPT_ADAM, s->lr, s->beta1, s->beta2, s->eps, 0.0f, 1.0f};
  return o;
}

/* The dynamic shared memory the backward phase may use. The attribute belongs to the
 * kernel, for the whole process, not to this context: it is set again before each launch,
 * so a second context of another size cannot shrink it under this one. */
static int smem_limit(cuda_mlp *c) {
#if !MLPB_EMULATED
  CU(cudaFuncSetAttribute(fused_epoch_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)c->dz_bytes));
  CU(cudaFuncSetAttribute(fused_backward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)c->dz_bytes));
#else
  (void)c;
#endif
  return 0;
}

#if !MLPB_EMULATED
static void fallback(cuda_mlp *c, const char *why) {
  snprintf(c->fallback, sizeof c->fallback, "%s", why);
  c->path = PATH_CUBLAS;
}
#endif

static int tiny_fits(const cuda_mlp *c, int batch) {
  const mlp_spec *s = &c->spec;
  return tiny_smem_floats(c->n_params, batch, s->n_hidden, s->n_out) * sizeof(float) <= TINY_SMEM;
}

/* A tunable of the fused kernels from the environment (the device check sweeps them without
 * a rebuild): unset or empty keeps *v; otherwise a whole decimal number in [lo, hi], a power
 * of two where pow2 is set, or an error naming the variable. */
static int tunable(cuda_mlp *c, const char *name, int lo, int hi, int pow2, int *v) {
  const char *s = getenv(name);
  if (!s || !*s) return 0;
  char *end = NULL;
  long n = strtol(s, &end, 10);
  if (*end || end == s || n < lo || n > hi || (pow2 && (n & (n - 1)))) {
    set_err(c, "%s='%.16s': want %s from %d to %d", name, s, pow2 ? "a power of two" : "a number",
            lo, hi);
    return -1;
  }
  *v = (int)n;
  return 0;
}

/* Whether the fused kernels fit this spec (a net that fits one warp's shared memory trains
 * in tiny_train_kernel instead) on this device; where not, the cublas path runs
 * and c->fallback says why. The slice width (default 16 hidden units) and the blocks per
 * slice (default: as many as keep every SM busy, up to 8; 2 in the emulated build) come from
 * MLPBENCH_FUSED_SLICE and MLPBENCH_FUSED_SPLIT where set. */
int fused_plan(cuda_mlp *c) {
  const mlp_spec *s = &c->spec;
  int S = 16, R = 0;
  if (tunable(c, "MLPBENCH_FUSED_SLICE", 8, FUSED_SMAX, 1, &S) ||
      tunable(c, "MLPBENCH_FUSED_SPLIT", 1, FUSED_RMAX, 0, &R))
    return -1;
  const int slices = (s->n_hidden + S - 1) / S;
  c->fused_slice = S;
  c->tiny = tiny_fits(c, s->max_batch);
  const size_t dh_rows = ((size_t)s->max_batch + FUSED_KC - 1) / FUSED_KC * FUSED_KC;
  c->dz_bytes = (2 * dh_rows * S + (size_t)s->max_batch * s->n_out) * sizeof(float);
#if MLPB_EMULATED
  c->fused_split = R ? R : 2;
  c->fused_blocks = slices * c->fused_split;
  c->cooperative = 0;
  return 0;
#else
  int dev = 0, coop = 0, sms = 0, optin = 0, per_sm = 0;
  CU(cudaGetDevice(&dev));
  CU(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
  CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  CU(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  if (!R) R = sms / slices < 1 ? 1 : sms / slices > 8 ? 8 : sms / slices;
  c->fused_split = R;
  c->fused_blocks = slices * R;
  cudaFuncAttributes fa;
  CU(cudaFuncGetAttributes(&fa, fused_epoch_kernel));
  if (fa.sharedSizeBytes + c->dz_bytes > (size_t)optin) {
    fallback(c, "batch x (outputs + 2 slices) too large for shared memory");
    return 0;
  }
  if (smem_limit(c)) return -1;
  CU(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fused_epoch_kernel, FUSED_THREADS,
                                                   c->dz_bytes));
  if (c->tiny) return 0; /* train_steps runs in one block: no grid to co-schedule */
  if (!coop) {
    fallback(c, "no cooperative launch on this device");
    return 0;
  }
  if (per_sm == 0) {
    fallback(c, "a block's shared memory does not fit an SM");
    return 0;
  }
  if ((long)per_sm * sms < c->fused_blocks) {
    fallback(c, "too many hidden units for one resident grid");
    return 0;
  }
  c->cooperative = 1;
  return 0;
#endif
}

int fused_alloc(cuda_mlp *c) {
  const size_t stride = (size_t)c->spec.max_batch * c->spec.n_out;
  CU(cudaMalloc(&c->zbuf, 3 * stride * sizeof(float)));
  CU(cudaMemsetAsync(c->zbuf, 0, 3 * stride * sizeof(float), c->stream));
  CU(cudaMalloc(&c->wcopy,
                (size_t)c->fused_blocks * FUSED_SMAX * (c->spec.n_out + 1) * sizeof(float)));
  CU(cudaMalloc(&c->meet, (size_t)c->fused_blocks * sizeof(unsigned)));
  return 0;
}

/* the model part of a kernel's arguments */
static void net_make(cuda_mlp *c, net_args *a) {
  const mlp_spec *s = &c->spec;
  a->n_in = s->n_in;
  a->n_hidden = s->n_hidden;
  a->n_out = s->n_out;
  a->act = s->act;
  a->loss = s->loss;
  a->opt = fused_coef(s);
  a->params = c->params;
  a->grads = c->grads;
  a->m = c->m;
  a->v = c->v;
  memcpy(a->off, c->off, sizeof a->off);
}

static fused_args fused_make(cuda_mlp *c) {
  const mlp_spec *s = &c->spec;
  fused_args a;
  memset(&a, 0, sizeof a);
  net_make(c, &a);
  a.h = c->h;
  a.z = c->zbuf;
  a.z_stride = (size_t)s->max_batch * s->n_out;
  a.wcopy = c->wcopy;
  a.meet = c->meet;
  a.slice = c->fused_slice;
  a.split = c->fused_split;
  a.dh_rows = (s->max_batch + FUSED_KC - 1) / FUSED_KC * FUSED_KC;
  a.st = c->st;
  return a;
}

/* Phase 1 of one step on c->x into z[0], which starts from zero. */
static int forward_phase(cuda_mlp *c, const fused_args &a) {
  CU(cudaMemsetAsync(c->zbuf, 0, a.z_stride * sizeof(float), c->stream));
  LAUNCH(fused_forward_kernel, c->fused_blocks, FUSED_THREADS, 0, c->stream, a, 0);
  LAUNCHED();
  return 0;
}

int fused_forward_backward(cuda_mlp *c, int B) {
  fused_args a = fused_make(c);
  a.X = c->x;
  a.labels = c->labels;
  a.targets = c->y;
  a.n_idx = a.batch = B;
  if (forward_phase(c, a) || smem_limit(c)) return -1;
  LAUNCH(fused_backward_kernel, c->fused_blocks, FUSED_THREADS, c->dz_bytes, c->stream, a, 0, 0);
  LAUNCHED();
  return 0;
}

int fused_forward(cuda_mlp *c, int B) {
  fused_args a = fused_make(c);
  a.X = c->x;
  a.n_idx = a.batch = B;
  if (forward_phase(c, a)) return -1;
  CU(cudaMemcpyAsync(c->z2, c->zbuf, (size_t)B * c->spec.n_out * sizeof(float),
                     cudaMemcpyDeviceToDevice, c->stream));
  return 0;
}

/* Regression targets, resident beside the inputs. */
int fused_set_targets(cuda_mlp *c, const float *t, int n) {
  size_t bytes = (size_t)n * c->spec.n_out * sizeof(float);
  CU(cudaMalloc(&c->data_t, bytes));
  CU(cudaMemcpyAsync(c->data_t, t, bytes, cudaMemcpyHostToDevice, c->stream));
  return 0;
}

static int tiny_train(cuda_mlp *c, int n_idx, int batch, int zero_grad) {
  const mlp_spec *s = &c->spec;
  tiny_args a;
  memset(&a, 0, sizeof a);
  net_make(c, &a);
  a.n_params = c->n_params;
  a.X = c->data_x;
  a.labels = c->data_y;
  a.targets = c->data_t;
  a.idx = c->idx;
  a.n_idx = n_idx;
  a.batch = batch;
  a.zero_grad = zero_grad;
  a.st = c->st;
  size_t smem = tiny_smem_floats(c->n_params, batch, s->n_hidden, s->n_out) * sizeof(float);
  LAUNCH(tiny_train_kernel, 1, TINY_THREADS, smem, c->stream, a);
  LAUNCHED();
  return 0;
}

int fused_train_steps(cuda_mlp *c, int n_idx, int batch, int zero_grad) {
  if (c->tiny) return tiny_train(c, n_idx, batch, zero_grad);
  fused_args a = fused_make(c);
  const int steps = (n_idx + batch - 1) / batch;
  a.X = c->data_x;
  a.labels = c->data_y;
  a.targets = c->data_t;
  a.rows = c->idx;
  a.n_idx = n_idx;
  a.batch = batch;
  a.zero_grad = zero_grad;
  a.update = 1;
  CU(cudaMemsetAsync(c->zbuf, 0, 3 * a.z_stride * sizeof(float), c->stream));
  if (smem_limit(c)) return -1;
  if (a.opt.adam) {
    if ((size_t)steps > c->adam_cap) {
      if (c->adam_tab) CU(cudaFree(c->adam_tab));
      c->adam_tab = NULL;
      CU(cudaMalloc(&c->adam_tab, (size_t)steps * 2 * sizeof(float)));
      c->adam_cap = (size_t)steps;
    }
    LAUNCH(adam_table_kernel, grid_for((size_t)steps, 256), 256, 0, c->stream,
           (const dev_state *)c->st, c->adam_tab, steps, a.opt);
    LAUNCHED();
    a.adam_tab = c->adam_tab;
  }
#if !MLPB_EMULATED
  if (c->cooperative) {
    int n = steps;
    CU(cudaMemsetAsync(c->meet, 0, (size_t)c->fused_blocks * sizeof(unsigned), c->stream));
    void *args[] = {&a, &n};
    CU(cudaLaunchCooperativeKernel((const void *)fused_epoch_kernel, dim3(c->fused_blocks),
                                   dim3(FUSED_THREADS), args, c->dz_bytes, c->stream));
  } else
#endif
    for (int s = 0; s < steps; s++) {
      LAUNCH(fused_forward_kernel, c->fused_blocks, FUSED_THREADS, 0, c->stream, a, s);
      LAUNCHED();
      LAUNCH(fused_backward_kernel, c->fused_blocks, FUSED_THREADS, c->dz_bytes, c->stream, a, s,
             1);
      LAUNCHED();
    }
  if (a.opt.adam) {
    LAUNCH(adam_advance_kernel, 1, 1, 0, c->stream, c->st, steps);
    LAUNCHED();
  }
  return 0;
}

void fused_describe(const cuda_mlp *c, char *buf, size_t len) {
  if (c->tiny)
    snprintf(buf, len, "fused: tiny net in 1 warp, 1 launch per call");
  else
    snprintf(buf, len, "fused: %d blocks (%d per slice of %d units), %s%s", c->fused_blocks,
             c->fused_split, c->fused_slice,
             c->cooperative ? "1 launch per epoch" : "2 launches per step",
             MLPB_EMULATED ? " (emulated)" : "");
}

} // namespace CUDA_NS
