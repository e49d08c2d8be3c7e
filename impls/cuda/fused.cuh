/* fused.cuh: the classifier's whole training step in hand-written FP32 kernels (the fused
 * path; no cuBLAS).
 *
 * The hidden units are split across thread blocks, FUSED_SLICE of them each. Block k owns
 * the slice J = [16k, 16k + 16): W1[:, J], b1[J], W2[J, :], their gradients and Adam moments.
 * Layer 1's forward pass, the activation, dH[:, J], dW1[:, J], db1[J], dW2[J, :] and every
 * update of the slice never leave the block. The blocks exchange only the logits z (B, O):
 * each adds its slice's share h[:, J] W2[J, :] into z with atomics (block 0 adds b2 too),
 * one grid-wide barrier follows, and then every block computes the softmax, the loss and dz
 * itself (O is small) before its slice's backward pass. b2 belongs to block 0 alone.
 *
 * One barrier per step is enough because z is triple-buffered: step s adds into z[s % 3]
 * and block 0 clears z[(s + 2) % 3], which every block last read before step s's barrier
 * and which is next written after step s + 1's.
 *
 * On a GPU one cooperative launch runs the epoch (fused_epoch_kernel, grid.sync() between
 * the phases). The emulated build has no grid sync: it launches the same two phases one
 * after another (fused_forward_kernel, fused_backward_kernel). Included inside the
 * backend's namespace by cuda_mlp.cu, after kernels.cuh. */
#ifndef MLPB_CUDA_FUSED_CUH
#define MLPB_CUDA_FUSED_CUH

#define FUSED_SLICE 16    /* hidden units per block */
#define FUSED_THREADS 256 /* 16 row lanes x 16 slice columns */
#define FUSED_KC 32       /* reduction depth staged in shared memory per pass */
#define FUSED_TILE 64     /* rows (forward) or inputs (dW1) per pass: 4 per thread */

struct fused_args : net_args {
  float *h, *dh;   /* (max_batch, H): a block writes only its slice's columns */
  float *z;        /* 3 x z_stride logits accumulators */
  size_t z_stride; /* max_batch * O */
  dev_state *st;
  /* row b of step s is X[rows[s * batch + b]], or X[s * batch + b] without rows */
  const float *X;
  const int32_t *labels; /* per X row (softmax) */
  const float *targets;  /* per X row (sigmoid) */
  const int32_t *rows;
  int n_idx, batch;
  int zero_grad; /* a step's gradient replaces the buffer instead of adding to it */
  int update;    /* 0: gradients only (forward_backward) */
  /* Adam's step_size and bc2_sqrt for each step of the call (adam_table_kernel): no pow()
   * call in the phases, whose ABI would spill registers around it */
  const float *adam_tab;
};

__device__ __forceinline__ int fused_rows(const fused_args &a, int s) {
  int left = a.n_idx - s * a.batch;
  return left < a.batch ? left : a.batch;
}

__device__ __forceinline__ size_t fused_row(const fused_args &a, int s, int b) {
  size_t i = (size_t)s * a.batch + b;
  return a.rows ? (size_t)a.rows[i] : i;
}

__device__ __forceinline__ float *fused_z(const fused_args &a, int s) {
  return a.z + (size_t)(s % 3) * a.z_stride;
}

// the slice's gradient g lands in grads[i] (added, or replacing it), then the update
__device__ __forceinline__ void fused_apply(const fused_args &a, const opt_coef &o, size_t i,
                                            float g) {
  float gi = a.zero_grad ? g : a.grads[i] + g;
  a.grads[i] = gi;
  if (a.update) opt_update(o, a.params, a.m, a.v, i, gi);
}

// Phase 1 of step s: h[:, J] = act(x W1[:, J] + b1[J]) (B, 16); z += h[:, J] W2[J, :]
__device__ void fused_forward(const fused_args &a, int s, float *z) {
  __shared__ float xs[FUSED_TILE][FUSED_KC + 1]; /* x (64 rows, 32 inputs) */
  __shared__ float ws[FUSED_KC][FUSED_SLICE];    /* W1 (32 inputs, 16 units) */
  const int H = a.n_hidden, I = a.n_in, O = a.n_out, B = fused_rows(a, s);
  const int j0 = blockIdx.x * FUSED_SLICE, nj = H - j0 < FUSED_SLICE ? H - j0 : FUSED_SLICE;
  const int tid = threadIdx.x, tj = tid % FUSED_SLICE, tr = tid / FUSED_SLICE;
  const float *W1 = a.params + a.off[0], *b1 = a.params + a.off[1];
  const float *W2 = a.params + a.off[2], *b2 = a.params + a.off[3];
  /* the previous step's updates of this slice were made by other threads of the block: in
   * the one-launch epoch nothing else orders them before these reads (the emulation, one
   * launch per phase, cannot show this race) */
  __syncthreads();
  for (int r0 = 0; r0 < B; r0 += FUSED_TILE) {
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k0 = 0; k0 < I; k0 += FUSED_KC) {
      for (int e = tid; e < FUSED_TILE * FUSED_KC; e += FUSED_THREADS) {
        int r = e / FUSED_KC, k = e % FUSED_KC, b = r0 + r;
        xs[r][k] = b < B && k0 + k < I ? a.X[fused_row(a, s, b) * I + k0 + k] : 0.0f;
      }
      for (int e = tid; e < FUSED_KC * FUSED_SLICE; e += FUSED_THREADS) {
        int k = e / FUSED_SLICE, j = e % FUSED_SLICE;
        ws[k][j] = k0 + k < I && j < nj ? W1[(size_t)(k0 + k) * H + j0 + j] : 0.0f;
      }
      __syncthreads();
      for (int k = 0; k < FUSED_KC; k++) {
        float w = ws[k][tj];
        for (int q = 0; q < 4; q++)
          acc[q] += xs[tr + 16 * q][k] * w;
      }
      __syncthreads();
    }
    for (int q = 0; q < 4; q++) {
      int b = r0 + tr + 16 * q;
      if (b < B && tj < nj) a.h[(size_t)b * H + j0 + tj] = act_forward(acc[q] + b1[j0 + tj], a.act);
    }
  }
  __syncthreads(); /* the slice's h is complete (global writes seen within the block) */
  for (int e = tid; e < B * O; e += FUSED_THREADS) {
    int b = e / O, o = e % O;
    float p = blockIdx.x == 0 ? b2[o] : 0.0f;
    for (int j = 0; j < nj; j++)
      p += a.h[(size_t)b * H + j0 + j] * W2[(size_t)(j0 + j) * O + o];
    atomicAdd(&z[e], p);
  }
}

// dz (B, O) from the summed logits, and this row's loss term
__device__ __forceinline__ float fused_loss_row(const fused_args &a, int s, int b, int B,
                                                const float *zr, float *d) {
  const int O = a.n_out;
  size_t row = fused_row(a, s, b);
  if (a.loss == MLP_LOSS_SOFTMAX_CE) {
    int y = a.labels[row];
    float mx = -INFINITY, sum = 0.0f;
    for (int o = 0; o < O; o++)
      mx = fmaxf(mx, zr[o]);
    for (int o = 0; o < O; o++)
      sum += expf(zr[o] - mx);
    for (int o = 0; o < O; o++)
      d[o] = (expf(zr[o] - mx) / sum - (o == y ? 1.0f : 0.0f)) / (float)B;
    return logf(sum) + mx - zr[y];
  }
  const float *t = a.targets + row * O;
  float l = 0.0f;
  for (int o = 0; o < O; o++) {
    float out = 1.0f / (1.0f + expf(-zr[o])), e = t[o] - out;
    d[o] = -e * out * (1.0f - out);
    l += 0.5f * e * e;
  }
  return l;
}

// Block 0: the step's loss into st, in a fixed order (a tree over the threads' parts)
__device__ void fused_record_loss(const fused_args &a, int s, int B, float part) {
  __shared__ float red[FUSED_THREADS];
  red[threadIdx.x] = part;
  __syncthreads();
  for (int w = FUSED_THREADS / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    float l = a.loss == MLP_LOSS_SOFTMAX_CE ? red[0] / (float)B : red[0];
    a.st->loss_sum += l;
    a.st->last_loss = l;
    if (!isfinite(l) && s < a.st->bad_step) a.st->bad_step = s;
  }
}

// dW1[:, J] = x^T dH[:, J], tiled like the forward pass: 64 inputs x 16 units per pass
__device__ void fused_dW1(const fused_args &a, const opt_coef &o, int s, int B, int j0, int nj) {
  __shared__ float xt[FUSED_KC][FUSED_TILE + 1]; /* x (32 rows, 64 inputs) */
  __shared__ float ds[FUSED_KC][FUSED_SLICE];    /* dH (32 rows, 16 units) */
  const int H = a.n_hidden, I = a.n_in, tid = threadIdx.x;
  const int tj = tid % FUSED_SLICE, tr = tid / FUSED_SLICE;
  for (int i0 = 0; i0 < I; i0 += FUSED_TILE) {
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int r0 = 0; r0 < B; r0 += FUSED_KC) {
      for (int e = tid; e < FUSED_KC * FUSED_TILE; e += FUSED_THREADS) {
        int r = e / FUSED_TILE, k = e % FUSED_TILE, b = r0 + r;
        xt[r][k] = b < B && i0 + k < I ? a.X[fused_row(a, s, b) * I + i0 + k] : 0.0f;
      }
      for (int e = tid; e < FUSED_KC * FUSED_SLICE; e += FUSED_THREADS) {
        int r = e / FUSED_SLICE, j = e % FUSED_SLICE, b = r0 + r;
        ds[r][j] = b < B && j < nj ? a.dh[(size_t)b * H + j0 + j] : 0.0f;
      }
      __syncthreads();
      for (int r = 0; r < FUSED_KC; r++) {
        float d = ds[r][tj];
        for (int q = 0; q < 4; q++)
          acc[q] += xt[r][tr + 16 * q] * d;
      }
      __syncthreads();
    }
    for (int q = 0; q < 4; q++) {
      int i = i0 + tr + 16 * q;
      if (i < I && tj < nj) fused_apply(a, o, a.off[0] + (size_t)i * H + j0 + tj, acc[q]);
    }
  }
}

// Phase 2 of step s: dz from z, then the slice's gradients and updates; block 0 also owns
// the loss, b2, and clearing the logits buffer two steps ahead (z_clear, or NULL)
__device__ void fused_backward(const fused_args &a, int s, const float *z, float *z_clear) {
  DYNAMIC_SHARED(float, dz); /* dz (B, O) */
  const int H = a.n_hidden, O = a.n_out, B = fused_rows(a, s), tid = threadIdx.x;
  const int j0 = blockIdx.x * FUSED_SLICE, nj = H - j0 < FUSED_SLICE ? H - j0 : FUSED_SLICE;
  const float *W2 = a.params + a.off[2];
  opt_coef o = a.opt;
  if (o.adam && a.update) {
    o.step_size = a.adam_tab[2 * s];
    o.bc2_sqrt = a.adam_tab[2 * s + 1];
  }
  float part = 0.0f;
  for (int b = tid; b < B; b += FUSED_THREADS)
    part += fused_loss_row(a, s, b, B, z + (size_t)b * O, dz + (size_t)b * O);
  if (blockIdx.x == 0) fused_record_loss(a, s, B, part);
  if (blockIdx.x == 0 && z_clear)
    for (size_t e = tid; e < a.z_stride; e += FUSED_THREADS)
      z_clear[e] = 0.0f;
  __syncthreads();
  // dH[:, J] = dz W2[J, :]^T * act'(h), read before W2[J, :] changes below
  for (int e = tid; e < B * FUSED_SLICE; e += FUSED_THREADS) {
    int b = e / FUSED_SLICE, j = e % FUSED_SLICE;
    if (j >= nj) continue;
    float g = 0.0f;
    for (int o = 0; o < O; o++)
      g += dz[(size_t)b * O + o] * W2[(size_t)(j0 + j) * O + o];
    size_t i = (size_t)b * H + j0 + j;
    a.dh[i] = act_backward(g, a.h[i], a.act);
  }
  __syncthreads();
  for (int e = tid; e < nj * O; e += FUSED_THREADS) { /* dW2[J, :] = h[:, J]^T dz */
    int j = e / O, k = e % O;
    float g = 0.0f;
    for (int b = 0; b < B; b++)
      g += a.h[(size_t)b * H + j0 + j] * dz[(size_t)b * O + k];
    fused_apply(a, o, a.off[2] + (size_t)(j0 + j) * O + k, g);
  }
  for (int j = tid; j < nj; j += FUSED_THREADS) { /* db1[J] */
    float g = 0.0f;
    for (int b = 0; b < B; b++)
      g += a.dh[(size_t)b * H + j0 + j];
    fused_apply(a, o, a.off[1] + j0 + j, g);
  }
  if (blockIdx.x == 0)
    for (int k = tid; k < O; k += FUSED_THREADS) { /* db2 */
      float g = 0.0f;
      for (int b = 0; b < B; b++)
        g += dz[(size_t)b * O + k];
      fused_apply(a, o, a.off[3] + k, g);
    }
  fused_dW1(a, o, s, B, j0, nj);
}

__global__ void __launch_bounds__(FUSED_THREADS) fused_forward_kernel(fused_args a, int s) {
  fused_forward(a, s, fused_z(a, s));
}

__global__ void __launch_bounds__(FUSED_THREADS)
    fused_backward_kernel(fused_args a, int s, int clear) {
  fused_backward(a, s, fused_z(a, s), clear ? fused_z(a, s + 2) : NULL);
}

#if !MLPB_EMULATED
// The whole epoch in one launch: every block must be resident (a cooperative launch). Two
// blocks per SM at least: ptxas then keeps every value in registers (at its default goal of
// four it spills), and H = 4096 (256 blocks) still fits one grid on a 132-SM GPU.
__global__ void __launch_bounds__(FUSED_THREADS, 2) fused_epoch_kernel(fused_args a, int steps) {
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (int s = 0; s < steps; s++) {
    fused_forward(a, s, fused_z(a, s));
    grid.sync();
    fused_backward(a, s, fused_z(a, s), fused_z(a, s + 2));
  }
}
#endif

// Before a call's steps: Adam's coefficients for each of them, from the step count so far
__global__ void adam_table_kernel(const dev_state *st, float *tab, int steps, opt_coef o) {
  int s = blockIdx.x * blockDim.x + threadIdx.x;
  if (s >= steps) return;
  adam_coef_at(&o, st->t + s + 1);
  tab[2 * s] = o.step_size;
  tab[2 * s + 1] = o.bc2_sqrt;
}

// After the steps: Adam counts them (the table above was read from the old count)
__global__ void adam_advance_kernel(dev_state *st, int steps) {
  st->t += steps;
}

#endif
