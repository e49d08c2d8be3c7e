/* onednn_plugin.c: the `onednn` backend, a plugin (never linked into mlpbench): mlpbench's
 * CPU step over a cpu_matmul_ops table of oneDNN's dnnl_sgemm (row-major, transposes as
 * flags). oneDNN picks its JIT kernels for the best ISA of this CPU at run time. */
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>

#include "../common/cpu_mlp.h"
#include "../mlp_plugin.h"

/* The shapes come from a checked spec, so dnnl_sgemm's only failure (bad arguments) cannot
 * happen: cpu_matmul_ops has no error path, and none is needed. */
static void mm_nn(float *C, const float *A, const float *B, int M, int N, int K) {
  dnnl_sgemm('N', 'N', M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
}
static void mm_tn_acc(float *C, const float *A, const float *B, int M, int N, int K) {
  dnnl_sgemm('T', 'N', M, N, K, 1.0f, A, M, B, N, 1.0f, C, N);
}
static void mm_tn(float *C, const float *A, const float *B, int M, int N, int K) {
  dnnl_sgemm('T', 'N', M, N, K, 1.0f, A, M, B, N, 0.0f, C, N);
}
static void mm_nt(float *C, const float *A, const float *B, int M, int N, int K) {
  dnnl_sgemm('N', 'T', M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
}

static const cpu_matmul_ops onednn_ops = {mm_nn, mm_tn_acc, mm_nt, mm_tn};

static const char *isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
  case dnnl_cpu_isa_sse41:
    return "sse41";
  case dnnl_cpu_isa_avx:
    return "avx";
  case dnnl_cpu_isa_avx2:
    return "avx2";
  case dnnl_cpu_isa_avx512_core:
    return "avx512_core";
  case dnnl_cpu_isa_avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl_cpu_isa_avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl_cpu_isa_avx512_core_amx:
    return "avx512_core_amx";
  default:
    return "other";
  }
}

static int onednn_available(char *why, size_t len) {
  if (len) why[0] = '\0';
  return 1;
}

static int onednn_library(mlp_library *out) {
  const dnnl_version_t *v = dnnl_version();
  snprintf(out->library, sizeof out->library, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
           v->hash ? v->hash : "");
  snprintf(out->kernel, sizeof out->kernel, "%s", isa_name(dnnl_get_effective_cpu_isa()));
  out->threads = 0; /* its OpenMP runtime's (OMP_NUM_THREADS) */
  return 0;
}

static void onednn_describe(char *buf, size_t len) {
  mlp_library l;
  onednn_library(&l);
  snprintf(buf, len, "%s, ISA %s, threads: OpenMP's (OMP_NUM_THREADS)", l.library, l.kernel);
}

static void *onednn_create(const mlp_spec *spec, const mlp_options *opt, char *err, size_t len) {
  return cpu_mlp_create(spec, opt, &onednn_ops, err, len);
}

static void onednn_path(void *ctx, char *buf, size_t len) {
  (void)ctx;
  snprintf(buf, len, "dnnl_sgemm, ISA %s", isa_name(dnnl_get_effective_cpu_isa()));
}

static const mlp_backend onednn_backend = {
    MLP_BACKEND_PLUGIN_HEADER,
    .name = "onednn",
    .summary = "oneDNN's dnnl_sgemm for the layer products, loops elsewhere (a plugin)",
    .available = onednn_available,
    .describe = onednn_describe,
    .create = onednn_create,
    .destroy = cpu_mlp_destroy,
    .error = cpu_mlp_error,
    .set_params = cpu_mlp_set_params,
    .get_params = cpu_mlp_get_params,
    .get_grads = cpu_mlp_get_grads,
    .zero_grads = cpu_mlp_zero_grads,
    .forward_backward = cpu_mlp_forward_backward,
    .step = cpu_mlp_step,
    .forward = cpu_mlp_forward,
    .gemm_floor = cpu_mlp_gemm_floor,
    .path = onednn_path,
    .library = onednn_library,
};

const mlp_backend *mlpbench_backend_entry(int harness_abi) {
  return harness_abi == MLP_BACKEND_ABI ? &onednn_backend : NULL;
}
