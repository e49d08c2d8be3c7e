/* tiny.cuh: a whole small net trained in one warp (the toy 4-3-1 sigmoid net and anything
 * else whose parameters, Adam state and activations fit in TINY_SMEM bytes of shared memory).
 * One launch runs every step of a train_steps call, so a timing block of 500 toy epochs is
 * one kernel: the cost per epoch is the warp's arithmetic and barriers, not launches.
 * Included inside the backend's namespace by cuda_mlp.cu, after kernels.cuh. */
#ifndef MLPB_CUDA_TINY_CUH
#define MLPB_CUDA_TINY_CUH

#define TINY_THREADS 32
#define TINY_SMEM (32u << 10)

struct tiny_args : net_args {
  size_t n_params;
  const float *X;        /* the resident set: X (n, n_in) */
  const int32_t *labels; /* (n), softmax */
  const float *targets;  /* (n, n_out), sigmoid */
  const int32_t *idx;    /* consecutive batches of `batch` rows; the last may be shorter */
  int n_idx, batch, zero_grad;
  dev_state *st;
};

/* Shared floats the kernel needs for this net: params, grads, m, v, h, dh, z/dz, parts. */
static inline size_t tiny_smem_floats(size_t n_params, int batch, int n_hidden, int n_out) {
  return 4 * n_params + (size_t)batch * (2 * (size_t)n_hidden + n_out) + TINY_THREADS;
}

// gradient of every parameter from this step's batch, added into G
__device__ void tiny_grads(const tiny_args &a, const float *h, const float *dh, const float *dz,
                           const int32_t *rows, int B, float *G) {
  const int I = a.n_in, H = a.n_hidden, O = a.n_out;
  for (size_t p = threadIdx.x; p < a.n_params; p += TINY_THREADS) {
    float g = 0.0f;
    if (p < a.off[1]) { /* dW1[i, j] = sum_b x[b, i] dh[b, j] */
      int i = (int)(p / H), j = (int)(p % H);
      for (int b = 0; b < B; b++)
        g += a.X[(size_t)rows[b] * I + i] * dh[b * H + j];
    } else if (p < a.off[2]) { /* db1 */
      for (int b = 0; b < B; b++)
        g += dh[b * H + (int)(p - a.off[1])];
    } else if (p < a.off[3]) { /* dW2[j, o] = sum_b h[b, j] dz[b, o] */
      int j = (int)((p - a.off[2]) / O), o = (int)((p - a.off[2]) % O);
      for (int b = 0; b < B; b++)
        g += h[b * H + j] * dz[b * O + o];
    } else { /* db2 */
      for (int b = 0; b < B; b++)
        g += dz[b * O + (int)(p - a.off[3])];
    }
    G[p] += g;
  }
}

// dz (O) and the loss term of one row, z in place of dz on entry
__device__ float tiny_loss_row(const tiny_args &a, size_t row, int B, float *zd) {
  const int O = a.n_out;
  float l = 0.0f;
  if (a.loss == MLP_LOSS_SOFTMAX_CE) {
    int y = a.labels[row];
    float mx = -INFINITY, sum = 0.0f;
    for (int o = 0; o < O; o++)
      mx = fmaxf(mx, zd[o]);
    for (int o = 0; o < O; o++)
      sum += expf(zd[o] - mx);
    l = logf(sum) + mx - zd[y];
    for (int o = 0; o < O; o++)
      zd[o] = (expf(zd[o] - mx) / sum - (o == y ? 1.0f : 0.0f)) / (float)B;
    return l;
  }
  for (int o = 0; o < O; o++) {
    float out = 1.0f / (1.0f + expf(-zd[o])), e = a.targets[row * O + o] - out;
    zd[o] = -e * out * (1.0f - out);
    l += 0.5f * e * e;
  }
  return l;
}

// One step on rows (B): forward, loss, backward into G, update of P.
__device__ void tiny_step(const tiny_args &a, int s, const int32_t *rows, int B, float *P, float *G,
                          float *M, float *V, float *h, float *dh, float *zd, float *part) {
  const int I = a.n_in, H = a.n_hidden, O = a.n_out, tid = threadIdx.x;
  const float *W1 = P + a.off[0], *b1 = P + a.off[1], *W2 = P + a.off[2], *b2 = P + a.off[3];
  if (a.zero_grad)
    for (size_t p = tid; p < a.n_params; p += TINY_THREADS)
      G[p] = 0.0f;
  for (int e = tid; e < B * H; e += TINY_THREADS) { /* h = act(x W1 + b1) */
    int b = e / H, j = e % H;
    float acc = 0.0f;
    for (int i = 0; i < I; i++)
      acc += a.X[(size_t)rows[b] * I + i] * W1[i * H + j];
    h[e] = act_forward(acc + b1[j], a.act);
  }
  __syncthreads();
  part[tid] = 0.0f;
  for (int b = tid; b < B; b += TINY_THREADS) { /* z = h W2 + b2, then dz and the loss */
    float *zr = zd + b * O;
    for (int o = 0; o < O; o++) {
      float acc = 0.0f;
      for (int j = 0; j < H; j++)
        acc += h[b * H + j] * W2[j * O + o];
      zr[o] = acc + b2[o];
    }
    part[tid] += tiny_loss_row(a, (size_t)rows[b], B, zr);
  }
  __syncthreads();
  if (tid == 0) {
    float l = 0.0f;
    for (int k = 0; k < TINY_THREADS; k++)
      l += part[k];
    if (a.loss == MLP_LOSS_SOFTMAX_CE) l /= (float)B;
    a.st->loss_sum += l;
    a.st->last_loss = l;
    if (!isfinite(l) && s < a.st->bad_step) a.st->bad_step = s;
  }
  for (int e = tid; e < B * H; e += TINY_THREADS) { /* dh = dz W2^T * act'(h) */
    int b = e / H, j = e % H;
    float g = 0.0f;
    for (int o = 0; o < O; o++)
      g += zd[b * O + o] * W2[j * O + o];
    dh[e] = act_backward(g, h[e], a.act);
  }
  __syncthreads();
  tiny_grads(a, h, dh, zd, rows, B, G);
  __syncthreads();
  opt_coef o = a.opt;
  if (o.adam) adam_coef_at(&o, a.st->t + s + 1);
  for (size_t p = tid; p < a.n_params; p += TINY_THREADS)
    opt_update(o, P, M, V, p, G[p]);
  __syncthreads();
}

__global__ void __launch_bounds__(TINY_THREADS) tiny_train_kernel(tiny_args a) {
  DYNAMIC_SHARED(float, sm);
  const size_t np = a.n_params;
  float *P = sm, *G = P + np, *M = G + np, *V = M + np, *h = V + np;
  float *dh = h + (size_t)a.batch * a.n_hidden, *zd = dh + (size_t)a.batch * a.n_hidden;
  float *part = zd + (size_t)a.batch * a.n_out;
  for (size_t p = threadIdx.x; p < np; p += TINY_THREADS) {
    P[p] = a.params[p];
    G[p] = a.grads[p];
    M[p] = a.opt.adam ? a.m[p] : 0.0f;
    V[p] = a.opt.adam ? a.v[p] : 0.0f;
  }
  __syncthreads();
  const int steps = (a.n_idx + a.batch - 1) / a.batch;
  for (int s = 0; s < steps; s++) {
    int B = a.n_idx - s * a.batch < a.batch ? a.n_idx - s * a.batch : a.batch;
    tiny_step(a, s, a.idx + (size_t)s * a.batch, B, P, G, M, V, h, dh, zd, part);
  }
  for (size_t p = threadIdx.x; p < np; p += TINY_THREADS) {
    a.params[p] = P[p];
    a.grads[p] = G[p];
    if (a.opt.adam) {
      a.m[p] = M[p];
      a.v[p] = V[p];
    }
  }
  if (threadIdx.x == 0 && a.opt.adam) a.st->t += steps;
}

#endif
