/* fused.cuh: the classifier's whole training step in hand-written FP32 kernels (the fused
 * path; no cuBLAS).
 *
 * The hidden units are split into slices of S (8, 16 or 32: fused_args.slice), and each slice
 * is shared by R thread blocks (fused_args.split): block (j, r) is blockIdx.x = j R + r. Slice
 * j owns J = [S j, S j + S): W1[:, J], b1[J], W2[J, :], their gradients and Adam moments.
 * - Forward: block (j, r) computes h[rows_r, J] = act(x[rows_r] W1[:, J] + b1[J]) for its
 *   share rows_r of the batch and adds h[rows_r, J] W2[J, :] into the logits z with atomics
 *   (slice 0 adds b2 too). One grid-wide barrier follows.
 * - Backward: every block computes the softmax, the loss and dz itself (O is small), and
 *   dH[:, J] for the whole batch (B x S x O products) into shared memory. Block (j, r) then
 *   computes dW1[I_r, J] = x[:, I_r]^T dH[:, J] for its share I_r of the inputs over the whole
 *   batch, so no gradient is summed across blocks. The slice's dW2[J, :] and db1[J] are dealt
 *   round its R blocks; block (0, 0) owns b2 and the loss.
 * - The next forward pass reads W1[:, J], which the slice's R blocks updated: they meet at a
 *   barrier of their own first (fused_meet, a counter per slice). W2[J, :] and b1[J] are read
 *   by all R and updated by them during the backward pass: each block reads them from its own
 *   copy (wcopy), taken at the start of the step's forward pass.
 *
 * Both products that touch W1 run on register micro-tiles (fused_tile): a thread holds a 4 x 4
 * tile of outputs and per step of the reduction reads its operands as two 128-bit shared loads
 * and does 16 FMAs with them. A block's threads split the reduction into KG = 256 / (2 S)
 * groups, summed through shared memory at the end of a panel (32 rows or 32 inputs).
 *
 * One grid barrier per step is enough because z is triple-buffered: step s adds into z[s % 3]
 * and block 0 clears z[(s + 2) % 3], which every block last read before step s's barrier
 * and which is next written after step s + 1's.
 *
 * On a GPU one cooperative launch runs the epoch (fused_epoch_kernel, grid.sync() between
 * the phases). The emulated build has no grid sync: it launches the same two phases one
 * after another (fused_forward_kernel, fused_backward_kernel), which orders what the grid
 * barrier and fused_meet order on the GPU. tests/gpu/fused_model.py predicts this kernel's
 * time; tests/gpu/sass_loops.py checks its loops' FMAs per shared load. Included inside the
 * backend's namespace by cuda_mlp.cu, after kernels.cuh. */
#ifndef MLPB_CUDA_FUSED_CUH
#define MLPB_CUDA_FUSED_CUH

#define FUSED_THREADS 256 /* per block */
#define FUSED_SMAX 32     /* the widest slice */
#define FUSED_MT 32       /* a panel: rows (forward) or inputs (dW1) per pass */
#define FUSED_MTP 36      /* a panel's row in shared memory, padded (16-byte aligned) */
#define FUSED_KC 64       /* reduction depth staged in shared memory per pass */
#define FUSED_RMAX 16     /* most blocks per slice */

struct fused_args : net_args {
  float *h;        /* (max_batch, H): block (j, r) writes h[rows_r, J] */
  float *z;        /* 3 x z_stride logits accumulators */
  size_t z_stride; /* max_batch * O */
  float *wcopy;    /* per block, FUSED_SMAX (O + 1) floats: W2[J, :] (S x O), b1[J] (S) */
  unsigned *meet;  /* per slice: arrivals at the slice's barrier (cooperative launch only) */
  dev_state *st;
  /* row b of step s is X[rows[s * batch + b]], or X[s * batch + b] without rows */
  const float *X;
  const int32_t *labels; /* per X row (softmax) */
  const float *targets;  /* per X row (sigmoid) */
  const int32_t *rows;
  int n_idx, batch;
  int slice, split; /* S hidden units per slice, R blocks per slice */
  int dh_rows;      /* rows of dH in shared memory: max_batch rounded up to FUSED_KC */
  int zero_grad;    /* a step's gradient replaces the buffer instead of adding to it */
  int update;       /* 0: gradients only (forward_backward) */
  /* Adam's step_size and bc2_sqrt for each step of the call (adam_table_kernel): no pow()
   * call in the phases, whose ABI would spill registers around it */
  const float *adam_tab;
};

/* Shared memory of the two products: a panel of A (k-major, padded), one of B, the k-groups'
 * partial tiles, and the panel's sums. One per block, 16-byte aligned through float4. */
struct fused_smem {
  float4 at[FUSED_KC * FUSED_MTP / 4];
  float4 bs[FUSED_KC * FUSED_SMAX / 4];
  float4 red[FUSED_THREADS * 16 / 4];
  float4 out[FUSED_MT * FUSED_SMAX / 4];
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

/* Where a thread works in a panel: k-group g of KG (the reduction's split), and the 4 x 4
 * tile at rows m0.., columns n0.. of the panel (32 x S): 8 x S/4 tiles per k-group. */
struct fused_lane {
  int S, KG, g, m0, n0;
};

__device__ __forceinline__ fused_lane fused_lane_of(int S) {
  const int G = 2 * S, t = (int)threadIdx.x % G;
  fused_lane l = {S, FUSED_THREADS / G, (int)threadIdx.x / G, 4 * (t % 8), 4 * (t / 8)};
  return l;
}

// acc += At[k][m0..m0+3] (x) Bs[k][n0..n0+3] over this k-group's share of the staged depth:
// two 128-bit shared loads feed 16 FMAs (the loop fused_model.py times, sass_loops.py checks)
__device__ __forceinline__ void fused_tile(const float (*At)[FUSED_MTP], const float *Bs,
                                           const fused_lane &l, float (&acc)[4][4]) {
  for (int k = l.g; k < FUSED_KC; k += l.KG) {
    const float4 a = *reinterpret_cast<const float4 *>(&At[k][l.m0]);
    const float4 b = *reinterpret_cast<const float4 *>(&Bs[k * l.S + l.n0]);
    const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
    UNROLL(4)
    for (int p = 0; p < 4; p++)
      UNROLL(4)
    for (int q = 0; q < 4; q++)
      acc[p][q] = fmaf(av[p], bv[q], acc[p][q]);
  }
}

// The panel's sums over the k-groups into out (32 x S, row-major), through red
__device__ __forceinline__ void fused_reduce(const fused_lane &l, const float (&acc)[4][4],
                                             fused_smem &sm) {
  float *red = reinterpret_cast<float *>(sm.red), *out = reinterpret_cast<float *>(sm.out);
  const int S = l.S;
  UNROLL(4)
  for (int p = 0; p < 4; p++)
    *reinterpret_cast<float4 *>(&red[(l.g * FUSED_MT + l.m0 + p) * S + l.n0]) =
        make_float4(acc[p][0], acc[p][1], acc[p][2], acc[p][3]);
  __syncthreads();
  for (int e = threadIdx.x; e < FUSED_MT * S; e += FUSED_THREADS) {
    float v = 0.0f;
    for (int g = 0; g < l.KG; g++)
      v += red[g * FUSED_MT * S + e];
    out[e] = v;
  }
  __syncthreads();
}

__device__ __forceinline__ float (*fused_at(fused_smem &sm))[FUSED_MTP] {
  return reinterpret_cast<float(*)[FUSED_MTP]>(sm.at);
}

/* A forward chunk on its way to shared memory, held in registers: x (32 rows, KC inputs) as
 * float4 quads, W1 (KC inputs, S units). */
#define FUSED_PA (FUSED_MT * FUSED_KC / 4 / FUSED_THREADS)
#define FUSED_PB (FUSED_KC * FUSED_SMAX / FUSED_THREADS)
struct fused_fwd_stage {
  float4 x[FUSED_PA];
  float w[FUSED_PB];
};

// The chunk at inputs k0.. of rows p0.. (before rb1): a lane reads 4 inputs of a row, a warp
// 16 rows x 2 quads (whole 32-byte sectors; their stores below meet no bank conflict)
__device__ __forceinline__ void fused_fwd_load(const fused_args &a, int s, int p0, int rb1, int k0,
                                               int j0, int nj, fused_fwd_stage &st) {
  const int I = a.n_in, H = a.n_hidden, S = a.slice, tid = threadIdx.x;
  const float *W1 = a.params + a.off[0];
  UNROLL(2)
  for (int u = 0; u < FUSED_PA; u++) {
    const int e = tid + u * FUSED_THREADS;
    const int m = e % 16 + 16 * ((e / 32) % 2), q = (e / 16) % 2 + 2 * (e / 64);
    const int b = p0 + m, k = k0 + 4 * q;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (b < rb1) {
      const float *xr = a.X + fused_row(a, s, b) * I;
      if ((I & 3) == 0 && k + 3 < I) {
        v = *reinterpret_cast<const float4 *>(xr + k);
      } else {
        v.x = k < I ? xr[k] : 0.0f;
        v.y = k + 1 < I ? xr[k + 1] : 0.0f;
        v.z = k + 2 < I ? xr[k + 2] : 0.0f;
        v.w = k + 3 < I ? xr[k + 3] : 0.0f;
      }
    }
    st.x[u] = v;
  }
  UNROLL(8)
  for (int u = 0; u < FUSED_PB; u++) {
    const int e = tid + u * FUSED_THREADS, k = e / S, n = e % S;
    st.w[u] = e < FUSED_KC * S && k0 + k < I && n < nj ? W1[(size_t)(k0 + k) * H + j0 + n] : 0.0f;
  }
}

__device__ __forceinline__ void fused_fwd_store(const fused_fwd_stage &st, float (*At)[FUSED_MTP],
                                                float *Bs, int S) {
  const int tid = threadIdx.x;
  UNROLL(2)
  for (int u = 0; u < FUSED_PA; u++) {
    const int e = tid + u * FUSED_THREADS;
    const int m = e % 16 + 16 * ((e / 32) % 2), q = (e / 16) % 2 + 2 * (e / 64);
    At[4 * q][m] = st.x[u].x;
    At[4 * q + 1][m] = st.x[u].y;
    At[4 * q + 2][m] = st.x[u].z;
    At[4 * q + 3][m] = st.x[u].w;
  }
  UNROLL(8)
  for (int u = 0; u < FUSED_PB; u++) {
    const int e = tid + u * FUSED_THREADS;
    if (e < FUSED_KC * S) Bs[e] = st.w[u];
  }
}

// Phase 1 of step s, block (j, r): h[rows_r, J] = act(x W1[:, J] + b1[J]); z += h W2[J, :]
__device__ void fused_forward(const fused_args &a, int s, float *z, fused_smem &sm) {
  const int H = a.n_hidden, I = a.n_in, O = a.n_out, B = fused_rows(a, s), S = a.slice;
  const int j = blockIdx.x / a.split, r = blockIdx.x % a.split, tid = threadIdx.x;
  const int j0 = j * S, nj = H - j0 < S ? H - j0 : S;
  const int per = (B + a.split - 1) / a.split, rb0 = r * per;
  const int rb1 = rb0 + per < B ? rb0 + per : B;
  const float *b1 = a.params + a.off[1];
  const float *W2 = a.params + a.off[2], *b2 = a.params + a.off[3];
  float *w2c = a.wcopy + (size_t)blockIdx.x * FUSED_SMAX * (O + 1), *b1c = w2c + S * O;
  float(*At)[FUSED_MTP] = fused_at(sm);
  float *Bs = reinterpret_cast<float *>(sm.bs), *out = reinterpret_cast<float *>(sm.out);
  const fused_lane l = fused_lane_of(S);
  /* the previous step's updates of this slice were made by other threads of the block (and
   * W1's by the slice's other blocks, ordered by fused_meet): nothing else orders them before
   * these reads (the emulation, one launch per phase, cannot show this race) */
  __syncthreads();
  for (int e = tid; e < S * (O + 1); e += FUSED_THREADS) { /* this step's W2[J, :], b1[J] */
    const int n = e < S * O ? e / O : e - S * O;
    float v = 0.0f;
    if (n < nj) v = e < S * O ? W2[(size_t)(j0 + n) * O + e % O] : b1[j0 + n];
    w2c[e] = v;
  }
  __syncthreads();
  for (int p0 = rb0; p0 < rb1; p0 += FUSED_MT) {
    float acc[4][4] = {};
    fused_fwd_stage st;
    fused_fwd_load(a, s, p0, rb1, 0, j0, nj, st);
    for (int k0 = 0; k0 < I; k0 += FUSED_KC) {
      fused_fwd_store(st, At, Bs, S);
      __syncthreads();
      /* the next chunk's loads are in flight while this one is multiplied */
      if (k0 + FUSED_KC < I) fused_fwd_load(a, s, p0, rb1, k0 + FUSED_KC, j0, nj, st);
      fused_tile(At, Bs, l, acc);
      __syncthreads();
    }
    fused_reduce(l, acc, sm);
    for (int e = tid; e < FUSED_MT * S; e += FUSED_THREADS) {
      const int m = e / S, n = e % S, b = p0 + m;
      const float v = n < nj ? act_forward(out[e] + b1c[n], a.act) : 0.0f;
      out[e] = v;
      if (b < rb1 && n < nj) a.h[(size_t)b * H + j0 + n] = v;
    }
    __syncthreads();
    for (int e = tid; e < FUSED_MT * O; e += FUSED_THREADS) { /* the panel's share of z */
      const int m = e / O, o = e % O, b = p0 + m;
      if (b >= rb1) continue;
      float v = j == 0 ? b2[o] : 0.0f;
      for (int n = 0; n < nj; n++)
        v += out[m * S + n] * w2c[n * O + o];
      atomicAdd(&z[(size_t)b * O + o], v);
    }
    __syncthreads();
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

#define FUSED_PX (FUSED_KC * FUSED_MT / FUSED_THREADS)
// x rows b0.. (before B), inputs i0..i0+31, into registers: a warp reads a row's 128 bytes
__device__ __forceinline__ void fused_dw1_load(const fused_args &a, int s, int B, int b0, int i0,
                                               float (&xs)[FUSED_PX]) {
  const int I = a.n_in;
  UNROLL(8)
  for (int u = 0; u < FUSED_PX; u++) {
    const int e = threadIdx.x + u * FUSED_THREADS, b = b0 + e / FUSED_MT, i = i0 + e % FUSED_MT;
    xs[u] = b < B && i < I ? a.X[fused_row(a, s, b) * I + i] : 0.0f;
  }
}

// dW1[I_r, J] = x[:, I_r]^T dH[:, J] in panels of 32 inputs, dH (dh_rows, S) in shared memory
__device__ void fused_dW1(const fused_args &a, const opt_coef &o, int s, int B, const float *dH,
                          int j0, int nj, fused_smem &sm) {
  const int H = a.n_hidden, I = a.n_in, S = a.slice, r = blockIdx.x % a.split, tid = threadIdx.x;
  const int panels = (I + FUSED_MT - 1) / FUSED_MT, per = (panels + a.split - 1) / a.split;
  const int q1 = (r + 1) * per < panels ? (r + 1) * per : panels;
  float(*At)[FUSED_MTP] = fused_at(sm);
  const float *out = reinterpret_cast<const float *>(sm.out);
  const fused_lane l = fused_lane_of(S);
  for (int q = r * per; q < q1; q++) {
    const int i0 = q * FUSED_MT;
    float acc[4][4] = {};
    float xs[FUSED_PX]; /* x (KC rows, 32 inputs) on its way to At[b][i] */
    fused_dw1_load(a, s, B, 0, i0, xs);
    for (int b0 = 0; b0 < B; b0 += FUSED_KC) {
      UNROLL(8)
      for (int u = 0; u < FUSED_PX; u++)
        At[(tid + u * FUSED_THREADS) / FUSED_MT][(tid + u * FUSED_THREADS) % FUSED_MT] = xs[u];
      __syncthreads();
      if (b0 + FUSED_KC < B) fused_dw1_load(a, s, B, b0 + FUSED_KC, i0, xs);
      fused_tile(At, dH + (size_t)b0 * S, l, acc);
      __syncthreads();
    }
    fused_reduce(l, acc, sm);
    for (int e = tid; e < FUSED_MT * S; e += FUSED_THREADS) {
      const int i = i0 + e / S, n = e % S;
      if (i < I && n < nj) fused_apply(a, o, a.off[0] + (size_t)i * H + j0 + n, out[e]);
    }
  }
}

// Phase 2 of step s: dz from z, dH[:, J], then the slice's gradients and updates; block 0
// also owns the loss, b2, and clearing the logits buffer two steps ahead (z_clear, or NULL)
__device__ void fused_backward(const fused_args &a, int s, const float *z, float *z_clear,
                               fused_smem &sm) {
  DYNAMIC_SHARED(float, dyn); /* dH and h[:, J] (dh_rows, S) each, then dz (B, O) */
  const int H = a.n_hidden, O = a.n_out, B = fused_rows(a, s), S = a.slice, tid = threadIdx.x;
  const int j = blockIdx.x / a.split, r = blockIdx.x % a.split;
  const int j0 = j * S, nj = H - j0 < S ? H - j0 : S;
  float *dH = dyn, *hs = dyn + (size_t)a.dh_rows * S, *dz = hs + (size_t)a.dh_rows * S;
  const float *w2c = a.wcopy + (size_t)blockIdx.x * FUSED_SMAX * (O + 1);
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
  // dH[:, J] = dz W2[J, :]^T * act'(h), from this step's copy of W2; rows past B are zero
  for (int e = tid; e < a.dh_rows * S; e += FUSED_THREADS) {
    const int b = e / S, n = e % S;
    float g = 0.0f, hv = 0.0f;
    if (b < B && n < nj) {
      for (int k = 0; k < O; k++)
        g += dz[(size_t)b * O + k] * w2c[n * O + k];
      hv = a.h[(size_t)b * H + j0 + n];
      g = act_backward(g, hv, a.act);
    }
    dH[e] = g;
    hs[e] = hv;
  }
  __syncthreads();
  /* dW2[J, :] = h[:, J]^T dz and db1[J], their outputs dealt round the slice's R blocks (each
   * written by one); four partial sums keep the FMAs independent */
  for (int e = r + a.split * tid; e < nj * O + nj; e += a.split * FUSED_THREADS) {
    const int n = e < nj * O ? e / O : e - nj * O, k = e % O;
    const float *u = e < nj * O ? hs + n : dH + n, *v = e < nj * O ? dz + k : NULL;
    float g4[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int b = 0;
    for (; b + 4 <= B; b += 4) {
      UNROLL(4)
      for (int q = 0; q < 4; q++)
        g4[q] += u[(size_t)(b + q) * S] * (v ? v[(size_t)(b + q) * O] : 1.0f);
    }
    for (; b < B; b++)
      g4[0] += u[(size_t)b * S] * (v ? v[(size_t)b * O] : 1.0f);
    const float g = (g4[0] + g4[1]) + (g4[2] + g4[3]);
    fused_apply(a, o, e < nj * O ? a.off[2] + (size_t)(j0 + n) * O + k : a.off[1] + j0 + n, g);
  }
  if (blockIdx.x == 0) {
    for (int k = tid; k < O; k += FUSED_THREADS) { /* db2 */
      float g = 0.0f;
      for (int b = 0; b < B; b++)
        g += dz[(size_t)b * O + k];
      fused_apply(a, o, a.off[3] + k, g);
    }
  }
  fused_dW1(a, o, s, B, dH, j0, nj, sm);
}

__global__ void __launch_bounds__(FUSED_THREADS, 1) fused_forward_kernel(fused_args a, int s) {
  __shared__ fused_smem sm;
  fused_forward(a, s, fused_z(a, s), sm);
}

__global__ void __launch_bounds__(FUSED_THREADS)
    fused_backward_kernel(fused_args a, int s, int clear) {
  __shared__ fused_smem sm;
  fused_backward(a, s, fused_z(a, s), clear ? fused_z(a, s + 2) : NULL, sm);
}

#if !MLPB_EMULATED
// The slice's R blocks meet before the next forward pass reads the W1[:, J] they updated:
// arrivals counted in meet[j] (zeroed before the launch), the n-th meeting waits for R n
__device__ void fused_meet(const fused_args &a, unsigned n) {
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned *c = a.meet + blockIdx.x / a.split;
    __threadfence();
    atomicAdd(c, 1u);
    while (*(volatile unsigned *)c < n * (unsigned)a.split) {
    }
    __threadfence();
  }
  __syncthreads();
}

// The whole epoch in one launch: every block must be resident (a cooperative launch). Two
// blocks per SM on sm_90, where ptxas then keeps every value in 128 registers (H = 4096 in
// slices of 16, 256 blocks, fits one grid on a 132-SM GPU, and a second block hides the
// first's waits); one on older GPUs, where at two ptxas spills (16 bytes on sm_80).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FUSED_EPOCH_BLOCKS_PER_SM 1
#else
#define FUSED_EPOCH_BLOCKS_PER_SM 2
#endif
__global__ void __launch_bounds__(FUSED_THREADS, FUSED_EPOCH_BLOCKS_PER_SM)
    fused_epoch_kernel(fused_args a, int steps) {
  __shared__ fused_smem sm;
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (int s = 0; s < steps; s++) {
    if (s > 0 && a.split > 1) fused_meet(a, (unsigned)s);
    fused_forward(a, s, fused_z(a, s), sm);
    grid.sync();
    fused_backward(a, s, fused_z(a, s), fused_z(a, s + 2), sm);
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
