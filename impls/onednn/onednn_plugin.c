/* onednn_plugin.c: the `onednn` backend, a plugin (never linked into mlpbench).
 *
 * Training: mlpbench's CPU step over a cpu_matmul_ops table of oneDNN's dnnl_sgemm
 * (row-major, transposes as flags). Evaluation (forward): each layer is one oneDNN matmul
 * primitive with the bias and the activation fused (the bias argument, an eltwise post-op:
 * ReLU or logistic), softmax after it. oneDNN picks its JIT kernels for this CPU's best ISA
 * at run time. */
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

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

static const cpu_matmul_ops onednn_ops = {mm_nn, mm_tn_acc, mm_nt, mm_tn, NULL};

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

static int onednn_available(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  if (len) why[0] = '\0';
  return 1;
}

static int onednn_library(const mlp_backend *self, mlp_library *out) {
  (void)self;
  const dnnl_version_t *v = dnnl_version();
  snprintf(out->library, sizeof out->library, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
           v->hash ? v->hash : "");
  snprintf(out->kernel, sizeof out->kernel, "%s", isa_name(dnnl_get_effective_cpu_isa()));
  out->threads = 0; /* its OpenMP runtime's (OMP_NUM_THREADS) */
  return 0;
}

static void onednn_describe(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  (void)ctx;
  mlp_library l;
  onednn_library(self, &l);
  snprintf(buf, len, "%s, ISA %s, threads: OpenMP's (OMP_NUM_THREADS)", l.library, l.kernel);
}

/* our context: the CPU step's, and what the fused forward needs */
typedef struct {
  void *cpu;
  mlp_spec spec;
  float *params;
  dnnl_engine_t eng;
  dnnl_stream_t strm;
  char err[256];
} dn_ctx;

static void onednn_destroy(void *ctx) {
  dn_ctx *c = ctx;
  if (!c) return;
  cpu_mlp_destroy(c->cpu);
  if (c->strm) dnnl_stream_destroy(c->strm);
  if (c->eng) dnnl_engine_destroy(c->eng);
  free(c->params);
  free(c);
}

static void *onednn_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                           char *err, size_t len) {
  (void)self;
  dn_ctx *c = calloc(1, sizeof *c);
  if (!c || !(c->params = malloc(sizeof(float) * mlp_param_count(spec)))) {
    snprintf(err, len, "out of memory");
    free(c);
    return NULL;
  }
  c->spec = *spec;
  if (dnnl_engine_create(&c->eng, dnnl_cpu, 0) != dnnl_success ||
      dnnl_stream_create(&c->strm, c->eng, dnnl_stream_default_flags) != dnnl_success) {
    snprintf(err, len, "oneDNN: no CPU engine or stream");
    onednn_destroy(c);
    return NULL;
  }
  if (!(c->cpu = cpu_mlp_create(spec, opt, &onednn_ops, err, len))) {
    onednn_destroy(c);
    return NULL;
  }
  return c;
}

static const char *onednn_error(void *ctx) {
  dn_ctx *c = ctx;
  return c->err;
}

/* the CPU step's slots on our context; its message becomes ours on failure */
#define PASS(call)                                                                                 \
  do {                                                                                             \
    dn_ctx *c = ctx;                                                                               \
    int rc_ = (call);                                                                              \
    if (rc_) snprintf(c->err, sizeof c->err, "%s", cpu_mlp_error(c->cpu));                         \
    return rc_;                                                                                    \
  } while (0)
#define CPU (((dn_ctx *)ctx)->cpu)
static int onednn_set_params(void *ctx, const float *f) {
  PASS(cpu_mlp_set_params(CPU, f));
}
static int onednn_get_params(void *ctx, float *f) {
  PASS(cpu_mlp_get_params(CPU, f));
}
static int onednn_get_grads(void *ctx, float *f) {
  PASS(cpu_mlp_get_grads(CPU, f));
}
static int onednn_zero_grads(void *ctx) {
  PASS(cpu_mlp_zero_grads(CPU));
}
static int onednn_forward_backward(void *ctx, const mlp_batch *b, float *loss) {
  PASS(cpu_mlp_forward_backward(CPU, b, loss));
}
static int onednn_step(void *ctx) {
  PASS(cpu_mlp_step(CPU));
}
static int onednn_gemm_floor(void *ctx, int batch, int steps, double *seconds) {
  PASS(cpu_mlp_gemm_floor(CPU, batch, steps, seconds));
}

/* dst (n, N) = act(src (n, K) W (K, N) + b): one matmul primitive, bias and activation fused.
 * act: dnnl_alg_kind_undef for none. Made per call: forward is evaluation, not the timed step. */
static dnnl_status_t dn_layer(dn_ctx *c, const float *src, const float *w, const float *b,
                              float *dst, int n, int K, int N, dnnl_alg_kind_t act) {
  dnnl_memory_desc_t md[4];
  dnnl_dims_t dims[4] = {{n, K}, {K, N}, {1, N}, {n, N}};
  dnnl_matmul_desc_t desc;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  dnnl_memory_t mem[4] = {NULL, NULL, NULL, NULL};
  void *ptr[4] = {(void *)src, (void *)w, (void *)b, dst};
  static const int arg[4] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
  dnnl_status_t st = dnnl_success;
  for (int i = 0; i < 4 && st == dnnl_success; i++)
    st = dnnl_memory_desc_init_by_tag(&md[i], 2, dims[i], dnnl_f32, dnnl_ab);
  if (st == dnnl_success) st = dnnl_matmul_desc_init(&desc, &md[0], &md[1], &md[2], &md[3]);
  if (st == dnnl_success) st = dnnl_primitive_attr_create(&attr);
  if (st == dnnl_success && act != dnnl_alg_kind_undef) {
    st = dnnl_post_ops_create(&po);
    if (st == dnnl_success) st = dnnl_post_ops_append_eltwise(po, 1.0f, act, 0.0f, 0.0f);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
  }
  if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, attr, c->eng, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(&prim, pd);
  for (int i = 0; i < 4 && st == dnnl_success; i++)
    st = dnnl_memory_create(&mem[i], &md[i], c->eng, ptr[i]);
  if (st == dnnl_success) {
    dnnl_exec_arg_t args[4];
    for (int i = 0; i < 4; i++)
      args[i] = (dnnl_exec_arg_t){arg[i], mem[i]};
    st = dnnl_primitive_execute(prim, c->strm, 4, args);
  }
  if (st == dnnl_success) st = dnnl_stream_wait(c->strm);
  for (int i = 0; i < 4; i++)
    if (mem[i]) dnnl_memory_destroy(mem[i]);
  if (prim) dnnl_primitive_destroy(prim);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (po) dnnl_post_ops_destroy(po);
  if (attr) dnnl_primitive_attr_destroy(attr);
  return st;
}

static int onednn_forward(void *ctx, const float *x, int n, float *out) {
  dn_ctx *c = ctx;
  const mlp_spec *s = &c->spec;
  size_t off[4];
  mlp_param_offsets(s, off);
  float *h = malloc(sizeof(float) * (size_t)n * s->n_hidden);
  if (!h) {
    snprintf(c->err, sizeof c->err, "out of memory");
    return -1;
  }
  dnnl_status_t st = dnnl_success;
  if (cpu_mlp_get_params(c->cpu, c->params)) {
    snprintf(c->err, sizeof c->err, "%s", cpu_mlp_error(c->cpu));
    free(h);
    return -1;
  }
  st = dn_layer(c, x, c->params + off[0], c->params + off[1], h, n, s->n_in, s->n_hidden,
                s->act == MLP_ACT_RELU ? dnnl_eltwise_relu : dnnl_eltwise_logistic);
  if (st == dnnl_success)
    st = dn_layer(c, h, c->params + off[2], c->params + off[3], out, n, s->n_hidden, s->n_out,
                  s->loss == MLP_LOSS_SIGMOID_SE ? dnnl_eltwise_logistic : dnnl_alg_kind_undef);
  free(h);
  if (st != dnnl_success) {
    snprintf(c->err, sizeof c->err, "oneDNN matmul primitive failed (status %d)", (int)st);
    return -1;
  }
  if (s->loss == MLP_LOSS_SOFTMAX_CE) cpu_mlp_softmax_rows(out, n, s->n_out);
  return 0;
}

static void onednn_path(void *ctx, char *buf, size_t len) {
  (void)ctx;
  snprintf(buf, len, "dnnl_sgemm step, fused matmul forward, ISA %s",
           isa_name(dnnl_get_effective_cpu_isa()));
}

static const mlp_backend onednn_backend = {
    MLP_BACKEND_PLUGIN_HEADER,
    .name = "onednn",
    .summary = "oneDNN: dnnl_sgemm in the training step; forward as matmul primitives with the "
               "bias and activation fused (a plugin)",
    .available = onednn_available,
    .describe = onednn_describe,
    .create = onednn_create,
    .destroy = onednn_destroy,
    .error = onednn_error,
    .set_params = onednn_set_params,
    .get_params = onednn_get_params,
    .get_grads = onednn_get_grads,
    .zero_grads = onednn_zero_grads,
    .forward_backward = onednn_forward_backward,
    .step = onednn_step,
    .forward = onednn_forward,
    .gemm_floor = onednn_gemm_floor,
    .path = onednn_path,
    .library = onednn_library,
};

const mlp_backend *mlpbench_backend_entry(int harness_abi) {
  return harness_abi == MLP_BACKEND_ABI ? &onednn_backend : NULL;
}
