/* cuda_mlp.h: the CUDA backend's entry points (cuda_mlp.cu), wired into the interface table
 * by cuda_backend.c. Device pointers never leave cuda_mlp.cu. */
#ifndef MLPB_CUDA_MLP_H
#define MLPB_CUDA_MLP_H

#include "../mlp_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

int cuda_mlp_available(char *why, size_t len);
void cuda_mlp_describe(char *buf, size_t len);
void *cuda_mlp_create(const mlp_spec *spec, const mlp_options *opt, char *err, size_t len);
void cuda_mlp_destroy(void *ctx);
const char *cuda_mlp_error(void *ctx);
int cuda_mlp_set_params(void *ctx, const float *flat);
int cuda_mlp_get_params(void *ctx, float *flat);
int cuda_mlp_get_grads(void *ctx, float *flat);
int cuda_mlp_zero_grads(void *ctx);
int cuda_mlp_forward_backward(void *ctx, const mlp_batch *b, float *loss);
int cuda_mlp_step(void *ctx);
int cuda_mlp_forward(void *ctx, const float *x, int n, float *out);
int cuda_mlp_set_dataset(void *ctx, const float *x, const int32_t *labels, const float *targets,
                         int n);
void cuda_mlp_path(void *ctx, char *buf, size_t len);
int cuda_mlp_train_steps(void *ctx, const int32_t *idx, int n_idx, int batch, int zero_grad,
                         float *mean_loss, double *seconds);
int cuda_mlp_sync(void *ctx);
int cuda_mlp_gemm_floor(void *ctx, int batch, int steps, double *seconds);

#ifdef __cplusplus
}
#endif

#endif
