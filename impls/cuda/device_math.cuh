/* device_math.cuh: what every CUDA path computes per element, as inline device functions (no
 * kernels, so both translation units include it): the optimizer step, the activations, and
 * the device-side step state. Included inside the backend's namespace. */
#ifndef MLPB_CUDA_DEVICE_MATH_CUH
#define MLPB_CUDA_DEVICE_MATH_CUH

#define ACT_NONE (-1)

/* Device-side step state: a captured graph reads its step from here, not from arguments. */
struct dev_state {
  float loss_sum;  /* sum of batch losses since the epoch began */
  int bad_step;    /* first step with a non-finite loss, INT_MAX if none */
  int step;        /* step within the current epoch (indexes the epoch's index list) */
  float step_loss; /* the running step's batch loss (the loss kernels add into it) */
  float last_loss; /* the last finished step's batch loss */
  int pad;
  long long t;     /* Adam step count */
  float step_size; /* lr / (1 - beta1^t) */
  float bc2_sqrt;  /* sqrt(1 - beta2^t) */
};

/* What an optimizer step needs per element; step_size and bc2_sqrt are Adam's at step t. */
struct opt_coef {
  int adam;
  float lr, beta1, beta2, eps, step_size, bc2_sqrt;
};

// Adam's bias corrections at step t, in double as PyTorch computes them
__device__ __forceinline__ void adam_coef_at(opt_coef *o, long long t) {
  double bc1 = 1.0 - pow((double)o->beta1, (double)t);
  double bc2 = 1.0 - pow((double)o->beta2, (double)t);
  o->step_size = (float)(o->lr / bc1);
  o->bc2_sqrt = (float)sqrt(bc2);
}

// p[i] -= the step for gradient g (SGD, or Adam with its moments m[i], v[i])
__device__ __forceinline__ void opt_update(const opt_coef &o, float *p, float *m, float *v,
                                           size_t i, float g) {
  if (!o.adam) {
    p[i] -= o.lr * g;
    return;
  }
  float mi = o.beta1 * m[i] + (1.0f - o.beta1) * g;
  float vi = o.beta2 * v[i] + (1.0f - o.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  p[i] -= o.step_size * mi / (sqrtf(vi) / o.bc2_sqrt + o.eps);
}

/* The model a hand-written trainer kernel needs, shared by the fused phases and the tiny net
 * (their argument structs derive from it). */
struct net_args {
  int n_in, n_hidden, n_out, act, loss;
  opt_coef opt;                  /* Adam's step sizes are filled per step */
  float *params, *grads, *m, *v; /* flat W1 b1 W2 b2 */
  size_t off[4];
};

__device__ __forceinline__ float act_forward(float v, int act) {
  if (act == MLP_ACT_RELU) return v > 0.0f ? v : 0.0f;
  if (act == MLP_ACT_SIGMOID) return 1.0f / (1.0f + expf(-v));
  return v;
}

// d * act'(pre-activation), written in terms of the activation's output h
__device__ __forceinline__ float act_backward(float d, float h, int act) {
  if (act == MLP_ACT_RELU) return h > 0.0f ? d : 0.0f;
  if (act == MLP_ACT_SIGMOID) return d * h * (1.0f - h);
  return d;
}

#endif
