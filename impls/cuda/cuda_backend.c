/* cuda_backend.c: the CUDA backend's interface table. */
#include "cuda_mlp.h"

static const mlp_props cuda_props = {.device = 1, .tf32 = 1};

const mlp_backend mlp_backend_cuda = {
    .name = "cuda",
    .summary = "cuBLAS SGEMM plus fused kernels, data resident, one CUDA graph per step",
    .available = cuda_mlp_available,
    .describe = cuda_mlp_describe,
    .create = cuda_mlp_create,
    .destroy = cuda_mlp_destroy,
    .error = cuda_mlp_error,
    .set_params = cuda_mlp_set_params,
    .get_params = cuda_mlp_get_params,
    .get_grads = cuda_mlp_get_grads,
    .zero_grads = cuda_mlp_zero_grads,
    .forward_backward = cuda_mlp_forward_backward,
    .step = cuda_mlp_step,
    .forward = cuda_mlp_forward,
    .set_dataset = cuda_mlp_set_dataset,
    .train_steps = cuda_mlp_train_steps,
    .sync = cuda_mlp_sync,
    .gemm_floor = cuda_mlp_gemm_floor,
    .props = &cuda_props,
    .path = cuda_mlp_path,
};
