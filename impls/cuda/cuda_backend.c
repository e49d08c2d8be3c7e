/* cuda_backend.c: the CUDA backend's interface table. Built twice, like the rest of the
 * backend: "cuda" on the GPU, and "cuda-emu" (MLPB_CUDA_EMU), the same kernels and host code
 * run on the CPU by the HIP CPU runtime to prove them where no GPU is; it is never timed. */
#include "cuda_mlp.h"

#ifdef MLPB_CUDA_EMU
static const mlp_props props = {.emulated = 1, .paths = "fused,cublas"};
#define TABLE mlp_backend_cuda_emu
#define NAME "cuda-emu"
#define FLOOR NULL  /* no cuBLAS to time */
#define MEMORY NULL /* host memory, already in the host's figure */
#define SUMMARY                                                                                    \
  "the cuda backend's kernels emulated on the CPU (HIP CPU runtime): proves them, never timed"
#else
static const mlp_props props = {.device = 1, .tf32 = 1, .paths = "cublas,fused"};
#define TABLE mlp_backend_cuda
#define NAME "cuda"
#define FLOOR CUDA_API(gemm_floor)
#define MEMORY CUDA_API(device_memory)
#define SUMMARY "cuBLAS SGEMM plus fused kernels, data resident, one CUDA graph per step"
#endif

const mlp_backend TABLE = {
    .name = NAME,
    .summary = SUMMARY,
    .available = CUDA_API(available),
    .describe = CUDA_API(describe),
    .create = CUDA_API(create),
    .destroy = CUDA_API(destroy),
    .error = CUDA_API(error),
    .set_params = CUDA_API(set_params),
    .get_params = CUDA_API(get_params),
    .get_grads = CUDA_API(get_grads),
    .zero_grads = CUDA_API(zero_grads),
    .forward_backward = CUDA_API(forward_backward),
    .step = CUDA_API(step),
    .forward = CUDA_API(forward),
    .set_dataset = CUDA_API(set_dataset),
    .train_steps = CUDA_API(train_steps),
    .sync = CUDA_API(sync),
    .gemm_floor = FLOOR,
    .device_memory = MEMORY,
    .props = &props,
    .path = CUDA_API(path),
};
