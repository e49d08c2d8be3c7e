/* cuda_mlp.h: the CUDA backend's entry points (cuda_mlp.cu), wired into the interface table
 * by cuda_backend.c. The same sources build twice: with nvcc for the GPU (cuda_mlp_*), and
 * with g++ over the HIP CPU runtime (MLPB_CUDA_EMU: cuda_emu_*), so each build has its own
 * names. Device pointers never leave the backend. */
#ifndef MLPB_CUDA_MLP_H
#define MLPB_CUDA_MLP_H

#include "../mlp_backend.h"

#ifdef MLPB_CUDA_EMU
#define CUDA_API(f) cuda_emu_##f
#else
#define CUDA_API(f) cuda_mlp_##f
#endif

#ifdef __cplusplus
extern "C" {
#endif

int CUDA_API(available)(const mlp_backend *self, char *why, size_t len);
void CUDA_API(describe)(const mlp_backend *self, void *ctx, char *buf, size_t len);
void *CUDA_API(create)(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                       char *err, size_t len);
void CUDA_API(destroy)(void *ctx);
const char *CUDA_API(error)(void *ctx);
int CUDA_API(set_params)(void *ctx, const float *flat);
int CUDA_API(get_params)(void *ctx, float *flat);
int CUDA_API(get_grads)(void *ctx, float *flat);
int CUDA_API(zero_grads)(void *ctx);
int CUDA_API(forward_backward)(void *ctx, const mlp_batch *b, float *loss);
int CUDA_API(step)(void *ctx);
int CUDA_API(forward)(void *ctx, const float *x, int n, float *out);
int CUDA_API(set_dataset)(void *ctx, const float *x, const int32_t *labels, const float *targets,
                          int n);
void CUDA_API(path)(void *ctx, char *buf, size_t len);
int CUDA_API(train_steps)(void *ctx, const int32_t *idx, int n_idx, int batch, int zero_grad,
                          mlp_steps_out *out);
int CUDA_API(sync)(void *ctx);
int CUDA_API(gemm_floor)(void *ctx, int batch, int steps, double *seconds);
int CUDA_API(device_memory)(void *ctx, double *bytes);

#ifdef __cplusplus
}
#endif

#endif
