/* mlpbench-micro: Google Benchmark micro-benchmarks of each available backend (forward,
 * forward+backward, optimizer step) and of the classifier's GEMM shapes, through the C shim.
 * Takes Google Benchmark's own flags: --benchmark_filter, --benchmark_repetitions,
 * --benchmark_format=json, ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/workload.h"
#include "../backends/be_handle.h"
#include "../backends/registry.h"
#include "../run/timed_region.h"
#include "gbench_shim.h"

#ifdef MLPB_HAVE_BLAS
#include <cblas.h>
#endif

#define MAX_B 1024

typedef struct {
  be_handle h;
  float *x, *out;
  int32_t *labels;
} bench_ctx;

static const int64_t batches[] = {1, 16, 128, 1024};
#define N_BATCHES ((int)(sizeof batches / sizeof batches[0]))

/* The harness's timed region, the clock alone (reading /proc around iterations of a few
 * microseconds would cost more than they do): ends after the sync. */
static const char *sync_time(bench_ctx *c, timed_region *r, double *seconds) {
  timed_sample s;
  if (timed_region_end(r, &c->h, &s)) return be_error(&c->h);
  *seconds = s.seconds;
  return NULL;
}

static const char *bm_forward(void *p, const int64_t *args, int nargs, double *seconds) {
  bench_ctx *c = p;
  (void)nargs;
  timed_region r;
  timed_region_begin(&r, 0);
  if (c->h.be->forward(c->h.ctx, c->x, (int)args[0], c->out)) return be_error(&c->h);
  return sync_time(c, &r, seconds);
}

static const char *bm_forward_backward(void *p, const int64_t *args, int nargs, double *seconds) {
  bench_ctx *c = p;
  mlp_batch b = {.x = c->x, .labels = c->labels, .n = (int)args[0]};
  (void)nargs;
  timed_region r;
  timed_region_begin(&r, 0);
  if (c->h.be->zero_grads(c->h.ctx) || c->h.be->forward_backward(c->h.ctx, &b, NULL))
    return be_error(&c->h);
  return sync_time(c, &r, seconds);
}

static const char *bm_step(void *p, const int64_t *args, int nargs, double *seconds) {
  bench_ctx *c = p;
  (void)args;
  (void)nargs;
  timed_region r;
  timed_region_begin(&r, 0);
  if (c->h.be->step(c->h.ctx)) return be_error(&c->h);
  return sync_time(c, &r, seconds);
}

static double fwd_flops(void *p, int64_t b) {
  const mlp_spec *s = &((bench_ctx *)p)->h.spec;
  return 2.0 * b * ((double)s->n_in * s->n_hidden + (double)s->n_hidden * s->n_out);
}
static double fb_flops(void *p, int64_t b) {
  return workload_step_flops(&((bench_ctx *)p)->h.spec, (int)b);
}
static double samples(void *p, int64_t b) {
  (void)p;
  return (double)b;
}

#ifdef MLPB_HAVE_BLAS
/* The classifier's products, as the blas backend calls them (row-major). */
typedef struct {
  int M, N, K, ta, beta_one;
  float *A, *B, *C;
} gemm_ctx;

static const char *bm_gemm(void *p, const int64_t *args, int nargs, double *seconds) {
  gemm_ctx *g = p;
  int M = g->M ? g->M : (int)args[0], K = g->K ? g->K : (int)args[0];
  (void)nargs;
  (void)seconds;
  cblas_sgemm(CblasRowMajor, g->ta == 1 ? CblasTrans : CblasNoTrans,
              g->ta == 2 ? CblasTrans : CblasNoTrans, M, g->N, K, 1.0f, g->A, g->ta == 1 ? M : K,
              g->B, g->ta == 2 ? K : g->N, g->beta_one ? 1.0f : 0.0f, g->C, g->N);
  return NULL;
}

static double gemm_flops(void *p, int64_t b) {
  gemm_ctx *g = p;
  return 2.0 * (g->M ? g->M : b) * g->N * (g->K ? g->K : b);
}

static void register_gemms(void) {
  static gemm_ctx g[3];
  float *buf = calloc((size_t)4 * MAX_B * 784, sizeof(float));
  if (!buf) return;
  for (size_t i = 0; i < (size_t)4 * MAX_B * 784; i++)
    buf[i] = (float)(i % 97) / 97.0f - 0.5f;
  float *A = buf, *B = buf + MAX_B * 784, *C = buf + 2 * MAX_B * 784;
  /* h (B,500) = x (B,784) W1 (784,500) */
  g[0] = (gemm_ctx){.M = 0, .N = 500, .K = 784, .ta = 0, .A = A, .B = B, .C = C};
  /* dW1 (784,500) += x^T (784,B) dh (B,500) */
  g[1] = (gemm_ctx){.M = 784, .N = 500, .K = 0, .ta = 1, .beta_one = 1, .A = A, .B = B, .C = C};
  /* dh (B,500) = dz2 (B,10) W2^T (10,500) */
  g[2] = (gemm_ctx){.M = 0, .N = 500, .K = 10, .ta = 2, .A = A, .B = B, .C = C};
  static const char *names[3] = {"blas/sgemm_forward_784x500", "blas/sgemm_weight_grad_784x500",
                                 "blas/sgemm_hidden_delta_10x500"};
  for (int i = 0; i < 3; i++) {
    gbs_benchmark b = {.name = names[i],
                       .fn = bm_gemm,
                       .ctx = &g[i],
                       .args = batches,
                       .nargs = N_BATCHES,
                       .flops_for = gemm_flops};
    gbs_register(&b);
  }
}
#endif

/* Adam's memory traffic without its arithmetic: the same four arrays read and three written
 * per parameter (p, g, m, v in; p, m, v out), no sqrt or division. Beside each backend's
 * optimizer_step it says how much of the step is the memory system's: where the two rates
 * match, no arithmetic tuning can make the step faster, only moving fewer bytes. */
typedef struct {
  float *p, *g, *m, *v;
  size_t n;
} traffic_ctx;

static const char *bm_traffic(void *ctx, const int64_t *args, int nargs, double *seconds) {
  traffic_ctx *t = ctx;
  float *restrict p = t->p, *restrict m = t->m, *restrict v = t->v;
  const float *restrict g = t->g;
  (void)args;
  (void)nargs;
  (void)seconds;
  for (size_t i = 0; i < t->n; i++) {
    m[i] = 0.9f * m[i] + 0.1f * g[i];
    v[i] = 0.999f * v[i] + 0.001f * g[i] * g[i];
    p[i] -= m[i] * v[i];
  }
  return NULL;
}

static void register_traffic(size_t n) {
  static traffic_ctx t;
  float *buf = calloc(4 * n, sizeof(float));
  if (!buf) return;
  for (size_t i = 0; i < n; i++)
    buf[n + i] = (float)(i % 97) * 1e-4f; /* g: small, normal; m, v, p start at 0 */
  t = (traffic_ctx){.p = buf, .g = buf + n, .m = buf + 2 * n, .v = buf + 3 * n, .n = n};
  gbs_benchmark b = {
      .name = "memory/optimizer_traffic", .fn = bm_traffic, .ctx = &t, .items_per_iter = (double)n};
  gbs_register(&b);
}

static size_t mnist_params; /* the classifier's parameter count, as the backends saw it */

static int register_backend(const mlp_backend *be, const mlpb_dataset *d) {
  static char names[8][3][48];
  static int nreg;
  char err[256];
  bench_ctx *c = calloc(1, sizeof *c);
  workload w;
  wl_config cfg = {.batch = MAX_B};
  if (!c || nreg >= 8 || workload_mnist(&w, d, &cfg, err, sizeof err)) {
    free(c);
    return -1;
  }
  c->x = malloc((size_t)MAX_B * w.spec.n_in * sizeof(float));
  c->out = malloc((size_t)MAX_B * w.spec.n_out * sizeof(float));
  c->labels = malloc(MAX_B * sizeof(int32_t));
  float *p = malloc(mlp_param_count(&w.spec) * sizeof(float));
  mlp_options opt = {.ftz = 1};
  int bad = !c->x || !c->out || !c->labels || !p;
  if (bad || be_open(&c->h, be, &w.spec, &opt, err, sizeof err)) {
    fprintf(stderr, "mlpbench-micro: %s\n", bad ? "out of memory" : err);
    be_close(&c->h);
    free(c->x);
    free(c->out);
    free(c->labels);
    free(c);
    free(p);
    workload_free(&w);
    return -1;
  }
  memcpy(c->x, w.x_train, (size_t)MAX_B * w.spec.n_in * sizeof(float));
  memcpy(c->labels, w.y_train, MAX_B * sizeof(int32_t));
  workload_init_params(&w, 1, p);
  if (be->set_params(c->h.ctx, p) || be->zero_grads(c->h.ctx)) {
    fprintf(stderr, "mlpbench-micro: %s: %s\n", be->name, be_error(&c->h));
    free(p);
    workload_free(&w);
    return -1;
  }
  free(p);
  mnist_params = mlp_param_count(&w.spec);
  /* a device backend queues its work: each iteration is timed after a sync (the property,
   * not the slot: a host backend may have a sync slot too) */
  int manual = be_props(be)->device;
  snprintf(names[nreg][0], 48, "%s/forward", be->name);
  snprintf(names[nreg][1], 48, "%s/forward_backward", be->name);
  snprintf(names[nreg][2], 48, "%s/optimizer_step", be->name);
  gbs_benchmark f = {.name = names[nreg][0],
                     .fn = bm_forward,
                     .ctx = c,
                     .args = batches,
                     .nargs = N_BATCHES,
                     .manual_time = manual,
                     .items_for = samples,
                     .flops_for = fwd_flops};
  gbs_benchmark fb = f;
  fb.name = names[nreg][1];
  fb.fn = bm_forward_backward;
  fb.flops_for = fb_flops;
  gbs_benchmark st = {.name = names[nreg][2],
                      .fn = bm_step,
                      .ctx = c,
                      .manual_time = manual,
                      .items_per_iter = (double)mlp_param_count(&w.spec)};
  nreg++;
  workload_free(&w);
  return gbs_register(&f) || gbs_register(&fb) || gbs_register(&st);
}

int main(int argc, char **argv) {
  mlpb_dataset d;
  char err[512];
  if (dataset_load(NULL, &d, err, sizeof err)) {
    fprintf(stderr, "mlpbench-micro: %s\n", err);
    return 2;
  }
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    /* an emulated backend's speed means nothing, and its emulator's thread spins while it
     * lives: registered, it would slow every benchmark that ran beside it */
    if (be_props(be)->emulated) continue;
    if (be_available(be, err, sizeof err) && register_backend(be, &d)) return 3;
  }
#ifdef MLPB_HAVE_BLAS
  register_gemms();
#endif
  if (mnist_params) register_traffic(mnist_params);
  int rc = gbs_run(&argc, argv);
  dataset_free(&d);
  return rc;
}
