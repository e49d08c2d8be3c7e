/* kernels.cuh: the step's own kernels around the cuBLAS products (the cublas path), and the
 * optimizer and evaluation kernels every path uses. Names follow impls/common/cpu_mlp.c:
 *   bias_forward + relu/sigmoid_forward   -> bias_act_forward_kernel
 *   relu/sigmoid_backward + bias_backward -> act_bias_backward_kernel
 *   softmax_xent_forward_backward         -> softmax_xent_forward_backward_kernel
 *   sigmoid_se_forward_backward           -> sigmoid_se_forward_backward_kernel
 *   sgd_update, adam_update               -> opt_update (one element), adam_update_kernel
 * Included inside the backend's namespace by cuda_mlp.cu only (it defines kernels). */
#ifndef MLPB_CUDA_KERNELS_CUH
#define MLPB_CUDA_KERNELS_CUH

// h (B, C) = act(h + bias)
__global__ void bias_act_forward_kernel(float *h, const float *bias, int B, int C, int act) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= (size_t)B * C) return;
  h[i] = act_forward(h[i] + bias[i % C], act);
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
      if (act != ACT_NONE) dh[i] = d = act_backward(d, h[i], act);
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

// max and sum of exp over a row of V logits, across the 32 lanes of a warp; lanes of a row
// past the batch still take part, so the shuffles stay in uniform control flow
__device__ __forceinline__ void row_softmax_stats(const float *z, int V, int lane, int live,
                                                  float *mx_out, float *sum_out) {
  float mx = -INFINITY, sum = 0.0f;
  for (int k = lane; live && k < V; k += 32)
    mx = fmaxf(mx, z[k]);
  for (int o = 16; o; o >>= 1)
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  for (int k = lane; live && k < V; k += 32)
    sum += expf(z[k] - mx);
  for (int o = 16; o; o >>= 1)
    sum += __shfl_xor_sync(0xffffffffu, sum, o);
  *mx_out = mx;
  *sum_out = sum;
}

// One warp per row: dlogits (B, V) = (softmax(z) - onehot) / B and the mean loss, without
// writing the probabilities anywhere.
__global__ void softmax_xent_forward_backward_kernel(float *dlogits, const float *logits,
                                                     const int32_t *labels, int B, int V,
                                                     dev_state *st) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
  int live = row < B;
  const float *z = logits + (size_t)(live ? row : 0) * V;
  float mx, sum;
  row_softmax_stats(z, V, lane, live, &mx, &sum);
  if (!live) return;
  int y = labels[row];
  for (int k = lane; k < V; k += 32)
    dlogits[(size_t)row * V + k] = (expf(z[k] - mx) / sum - (k == y ? 1.0f : 0.0f)) / (float)B;
  if (lane == 0) {
    float l = logf(sum) + mx - z[y];
    atomicAdd(&st->step_loss, l / (float)B);
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
  atomicAdd(&st->step_loss, l);
  if (!isfinite(l)) atomicMin(&st->bad_step, st->step);
}

// probs (B, V) = softmax(z) in place, for evaluation only
__global__ void softmax_forward_kernel(float *z, int B, int V) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
  int live = row < B;
  float *r = z + (size_t)(live ? row : 0) * V, mx, sum;
  row_softmax_stats(r, V, lane, live, &mx, &sum);
  if (!live) return;
  for (int k = lane; k < V; k += 32)
    r[k] = expf(r[k] - mx) / sum;
}

__global__ void sigmoid_forward_kernel(float *x, size_t n) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < n) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

__global__ void sgd_update_kernel(float *p, const float *g, size_t n, float lr) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  opt_coef o = {0, lr, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
  if (i < n) opt_update(o, p, NULL, NULL, i, g[i]);
}

// Adam's bias corrections, once per step on the device so that a captured graph replays
// correctly.
__global__ void adam_prepare_kernel(dev_state *st, float lr, float beta1, float beta2) {
  opt_coef o = {1, lr, beta1, beta2, 0.0f, 0.0f, 1.0f};
  adam_coef_at(&o, ++st->t);
  st->step_size = o.step_size;
  st->bc2_sqrt = o.bc2_sqrt;
}

__global__ void adam_update_kernel(float *p, const float *g, float *m, float *v, size_t n,
                                   float beta1, float beta2, float eps, const dev_state *st) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  opt_coef o = {1, 0.0f, beta1, beta2, eps, st->step_size, st->bc2_sqrt};
  if (i < n) opt_update(o, p, m, v, i, g[i]);
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
  st->loss_sum = st->step_loss = 0.0f;
  st->bad_step = INT_MAX;
  st->step = 0;
}

__global__ void step_end_kernel(dev_state *st) {
  st->loss_sum += st->step_loss;
  st->last_loss = st->step_loss;
  st->step_loss = 0.0f;
  st->step++;
}

#endif
