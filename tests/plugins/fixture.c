/* fixture.c: test plugins, good and bad, one shared library per PLUG_* define (tests/
 * CMakeLists.txt). Each is the example's backend (mlpbench's CPU step over plain loops) with
 * one thing wrong, so a test can show what mlpbench says about that one fault. */
#define _POSIX_C_SOURCE 200809L
#include <fenv.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../impls/common/cpu_mlp.h"
#include "../../impls/mlp_plugin.h"

static void mm_nn(float *C, const float *A, const float *B, int M, int N, int K) {
  memset(C, 0, sizeof(float) * (size_t)M * N);
  for (int i = 0; i < M; i++)
    for (int k = 0; k < K; k++)
      for (int j = 0; j < N; j++)
        C[(size_t)i * N + j] += A[(size_t)i * K + k] * B[(size_t)k * N + j];
}
static void mm_tn_acc(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int k = 0; k < K; k++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++)
        C[(size_t)i * N + j] += A[(size_t)k * M + i] * B[(size_t)k * N + j];
}
static void mm_tn(float *C, const float *A, const float *B, int M, int N, int K) {
  memset(C, 0, sizeof(float) * (size_t)M * N);
  mm_tn_acc(C, A, B, M, N, K);
}
static void mm_nt(float *C, const float *A, const float *B, int M, int N, int K) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0.0f;
      for (int k = 0; k < K; k++)
        s += A[(size_t)i * K + k] * B[(size_t)j * K + k];
      C[(size_t)i * N + j] = s;
    }
}
static const cpu_matmul_ops ops = {mm_nn, mm_tn_acc, mm_nt, mm_tn, NULL};

/* conform's hostile plugins: each misbehaves where the harness once ran or trusted it */
#ifdef PLUG_CTORCRASH /* crashes as it is loaded, before any slot is asked */
__attribute__((constructor)) static void fx_boom(void) {
  raise(SIGSEGV);
}
#endif

#ifdef PLUG_CHDIR /* moves the process to $PLUG_CHDIR_TO as it is loaded: outputs must not follow  \
                   */
__attribute__((constructor)) static void fx_move(void) {
  const char *to = getenv("PLUG_CHDIR_TO");
  if (to && chdir(to) != 0) abort();
}
#endif

#ifdef PLUG_EXITHANG /* hangs as it is unloaded, after every check has run */
__attribute__((destructor)) static void fx_linger(void) {
  for (;;)
    pause();
}
#endif

static int fx_available(const mlp_backend *self, char *why, size_t len) {
  (void)self;
#ifdef PLUG_AVAILHANG
  (void)why, (void)len;
  for (;;)
    pause();
  return 1;
#elif defined(PLUG_UNAVAIL)
  snprintf(why, len, "no such device");
  return 0;
#else
  if (len) why[0] = '\0';
  return 1;
#endif
}
static mlp_spec last_spec; /* the last context's: the tests use one at a time */
static int last_ftz, last_nan_path;

/* MLPB_FIXTURE_PIDFILE: each process that creates a context appends its pid (and a helper's),
 * so a test can tell whether anything is left running */
static void note_pid(pid_t pid) {
  const char *f = getenv("MLPB_FIXTURE_PIDFILE");
  FILE *fp = f ? fopen(f, "a") : NULL;
  if (fp) fprintf(fp, "%d\n", (int)pid), fclose(fp);
}
#ifdef PLUG_ADAMBC
static float *adam_m, *adam_v;
static long adam_t;
#endif
static void *fx_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                       char *err, size_t len) {
  (void)self;
  last_spec = *spec;
  last_ftz = opt->ftz;
  last_nan_path = opt->path && strcmp(opt->path, "nan") == 0;
  static int noted;
  if (!noted++) note_pid(getpid());
#ifdef PLUG_NOTERM /* a library that ignores SIGTERM, as some daemons' helpers do */
  signal(SIGTERM, SIG_IGN);
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGINT);
  sigprocmask(SIG_BLOCK, &both, NULL); /* and blocks SIGINT */
#endif
#ifdef PLUG_PRINTS /* text shaped like conform's old reports, on stdout */
  printf("@check determinism\niter 3 FAILED\nR\t0\t1\tforged\n");
  fflush(stdout);
#endif
#ifdef PLUG_HELPER /* a helper that keeps every descriptor open, and outlives its parent */
  static int started;
  if (!started++) {
    pid_t h = fork();
    if (h == 0) {
      sleep(600);
      _exit(0);
    }
    if (h > 0) note_pid(h);
  }
#endif
#ifdef PLUG_ADAMBC /* one context at a time: its Adam state starts afresh */
  free(adam_m), free(adam_v);
  adam_m = adam_v = NULL;
  adam_t = 0;
#endif
  return cpu_mlp_create(spec, opt, &ops, err, len);
}

/* asked before any context (list) and with one (bench's row): says which, and what it knows */
static void fx_describe(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  if (ctx)
    snprintf(buf, len, "%s: a live context, hidden %d", self->name, last_spec.n_hidden);
  else
    snprintf(buf, len, "%s: no context yet", self->name);
}

/* the planted faults */
#ifdef PLUG_ODDBATCH /* a student's transpose slip that only odd batches reach */
static int odd_seen;
#endif
static int fx_forward_backward(void *ctx, const mlp_batch *b, float *loss) {
#ifdef PLUG_ODDBATCH
  odd_seen |= b->n % 2;
#endif
#if defined(PLUG_CRASH)
  (void)ctx, (void)b, (void)loss;
  raise(SIGSEGV);
#elif defined(PLUG_SLOWCRASH) /* a second of work, then a crash: each check costs a second */
  (void)ctx, (void)b, (void)loss;
  sleep(1);
  raise(SIGSEGV);
#elif defined(PLUG_HANG)
  (void)ctx, (void)b, (void)loss;
  for (;;)
    pause();
#elif defined(PLUG_EXITFB) /* ends the process that runs it, as a careless library might */
  (void)ctx, (void)b, (void)loss;
  exit(0);
#endif
  int rc = cpu_mlp_forward_backward(ctx, b, loss);
#ifdef PLUG_FENV /* leaves the caller rounding upward, and on x86 flushing subnormals */
  fesetround(FE_UPWARD);
#if defined(__x86_64__)
  unsigned csr;
  __asm__ volatile("stmxcsr %0" : "=m"(csr));
  csr |= 0x8040u; /* FTZ, DAZ */
  __asm__ volatile("ldmxcsr %0" : : "m"(csr));
#endif
#endif
  return rc;
}
static int fx_zero_grads(void *ctx) {
#ifdef PLUG_ODDBATCH
  odd_seen = 0;
#endif
#ifdef PLUG_NOZERO /* ignores zero_grads: gradients pile up across steps */
  (void)ctx;
  return 0;
#else
  return cpu_mlp_zero_grads(ctx);
#endif
}
static int fx_get_grads(void *ctx, float *flat) {
  int rc = cpu_mlp_get_grads(ctx, flat);
  if (!rc && last_nan_path) /* the second declared path: NaN gradients */
    for (size_t i = 0, n = mlp_param_count(&last_spec); i < n; i++)
      flat[i] = NAN;
#ifdef PLUG_FTZOFF /* wrong only with FTZ/DAZ off: W2's gradient doubled */
  size_t o2[4];
  mlp_param_offsets(&last_spec, o2);
  if (!rc && !last_ftz)
    for (size_t i = o2[2]; i < o2[3]; i++)
      flat[i] *= 2;
#endif
#ifdef PLUG_NOBIAS /* drops the hidden bias gradient */
  size_t off[4];
  mlp_param_offsets(&last_spec, off);
  if (!rc) memset(flat + off[1], 0, sizeof(float) * (size_t)last_spec.n_hidden);
#endif
#ifdef PLUG_ODDBATCH /* both weight gradients off by 1%, so the message must name both */
  size_t o[4];
  mlp_param_offsets(&last_spec, o);
  for (size_t i = o[0]; !rc && odd_seen && i < o[1]; i++)
    flat[i] *= 1.01f;
  for (size_t i = o[2]; !rc && odd_seen && i < o[3]; i++)
    flat[i] *= 1.01f;
#endif
  return rc;
}

#ifdef PLUG_ADAMBC /* Adam by hand, with the bias correction one step ahead (t + 1) */
static int fx_step(void *ctx) {
  if (last_spec.opt != MLP_OPT_ADAM) return cpu_mlp_step(ctx);
  size_t n = mlp_param_count(&last_spec);
  float *p = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
  if (!adam_m) adam_m = calloc(n, sizeof(float)), adam_v = calloc(n, sizeof(float));
  int rc =
      !p || !g || !adam_m || !adam_v || cpu_mlp_get_params(ctx, p) || cpu_mlp_get_grads(ctx, g);
  adam_t++;
  double bc1 = 1 - pow(last_spec.beta1, adam_t + 1), bc2 = 1 - pow(last_spec.beta2, adam_t + 1);
  for (size_t i = 0; !rc && i < n; i++) {
    adam_m[i] = last_spec.beta1 * adam_m[i] + (1 - last_spec.beta1) * g[i];
    adam_v[i] = last_spec.beta2 * adam_v[i] + (1 - last_spec.beta2) * g[i] * g[i];
    p[i] -= (float)(last_spec.lr / bc1 * adam_m[i] / (sqrt(adam_v[i] / bc2) + last_spec.eps));
  }
  if (!rc) rc = cpu_mlp_set_params(ctx, p); /* clears the gradients, as zero_grads would */
  free(p), free(g);
  return rc;
}
#define FX_STEP fx_step
#else
#define FX_STEP cpu_mlp_step
#endif

/* Work left running: the backend returns while its "device" still works, and only sync
 * waits for it (mlp_backend.h allows it). LAZY: train_steps leaves LAZY_S of work per call
 * (a resident backend); LAZYSTEP: forward_backward leaves it per step. A sample that does not
 * end after the sync misses it. SLOWFLOOR: gemm_floor takes FLOOR_S per call, so the floor
 * lies above any toy epoch (the figures contradict each other). */
#define LAZY_S 0.05
#define FLOOR_S 0.02
static double pending; /* seconds of queued work sync still has to wait for */
static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}
static int fx_sync(void *ctx) {
  (void)ctx;
  sleep_s(pending);
  pending = 0;
  return 0;
}
static int fx_set_params(void *ctx, const float *flat) {
  fx_sync(ctx); /* returns with its work done: what was queued before, too */
  return cpu_mlp_set_params(ctx, flat);
}
#ifdef PLUG_LAZYSTEP
static int fx_lazy_forward_backward(void *ctx, const mlp_batch *b, float *loss) {
  pending += LAZY_S;
  return fx_forward_backward(ctx, b, loss);
}
#endif
#ifdef PLUG_SLOWFLOOR
static int fx_slow_floor(void *ctx, int batch, int steps, double *seconds) {
  sleep_s(FLOOR_S);
  return cpu_mlp_gemm_floor(ctx, batch, steps, seconds);
}
#endif
#ifdef PLUG_LAZY /* the resident slots, over the CPU step: the training split by pointer */
static const float *ds_x, *ds_t;
static const int32_t *ds_y;
static int fx_set_dataset(void *ctx, const float *x, const int32_t *labels, const float *targets,
                          int n) {
  (void)ctx, (void)n;
  ds_x = x, ds_y = labels, ds_t = targets;
  return 0;
}
static int fx_train_steps(void *ctx, const int32_t *idx, int n_idx, int batch, int zero_grad,
                          mlp_steps_out *out) {
  const mlp_spec *s = &last_spec;
  float *x = malloc(sizeof(float) * (size_t)batch * s->n_in);
  float *t = malloc(sizeof(float) * (size_t)batch * s->n_out);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)batch);
  double sum = 0;
  int steps = 0, rc = !x || !t || !y;
  for (int at = 0; !rc && at < n_idx; at += batch, steps++) {
    int n = n_idx - at < batch ? n_idx - at : batch;
    for (int i = 0; i < n; i++) {
      memcpy(x + (size_t)i * s->n_in, ds_x + (size_t)idx[at + i] * s->n_in,
             sizeof(float) * s->n_in);
      if (ds_y) y[i] = ds_y[idx[at + i]];
      if (ds_t)
        memcpy(t + (size_t)i * s->n_out, ds_t + (size_t)idx[at + i] * s->n_out,
               sizeof(float) * s->n_out);
    }
    mlp_batch b = {.x = x, .y = ds_t ? t : NULL, .labels = ds_y ? y : NULL, .n = n};
    float loss = 0;
    rc = (zero_grad && cpu_mlp_zero_grads(ctx)) || cpu_mlp_forward_backward(ctx, &b, &loss) ||
         cpu_mlp_step(ctx);
    sum += loss;
    out->last_loss = loss;
  }
  free(x), free(t), free(y);
  out->mean_loss = steps ? (float)(sum / steps) : 0.0f;
  out->device_seconds = -1.0;
  pending += LAZY_S; /* returns now; the sync waits */
  return rc ? -1 : 0;
}
#endif

#ifdef PLUG_NANFWD /* trains right, but evaluates to NaN: no accuracy can be read from it */
static int fx_forward(void *ctx, const float *x, int n, float *out) {
  int rc = cpu_mlp_forward(ctx, x, n, out);
  for (size_t i = 0; !rc && i < (size_t)n * last_spec.n_out; i++)
    out[i] = NAN;
  return rc;
}
#define FX_FORWARD fx_forward
#else
#define FX_FORWARD cpu_mlp_forward
#endif

#ifdef PLUG_LIBRARY /* a math library of its own, as the BLIS and oneDNN plugins have */
static int fx_library(const mlp_backend *self, mlp_library *out) {
  (void)self;
  snprintf(out->library, sizeof out->library, "FakeBLAS 1.0");
  snprintf(out->kernel, sizeof out->kernel, "fakecore");
  out->threads = 1;
  return 0;
}
#endif

#ifndef PLUG_NAME
#define PLUG_NAME "fixture"
#endif
#ifndef PLUG_SUMMARY
#define PLUG_SUMMARY "a test plugin"
#endif

#ifdef PLUG_PATHS /* two declared code paths; the second's gradients are NaN */
static const mlp_props props = {.paths = "good,nan"};
#endif

static const mlp_backend table = {
#if defined(PLUG_VERSION)
    .abi_version = 99,
    .table_size = sizeof(mlp_backend),
#elif defined(PLUG_SIZE)
    .abi_version = MLP_BACKEND_ABI,
    .table_size = sizeof(mlp_backend) - 8,
#else
    MLP_BACKEND_PLUGIN_HEADER,
#endif
    .name = PLUG_NAME,
    .summary = PLUG_SUMMARY,
    .available = fx_available,
    .describe = fx_describe,
    .create = fx_create,
    .destroy = cpu_mlp_destroy,
    .error = cpu_mlp_error,
    .set_params = fx_set_params,
    .get_params = cpu_mlp_get_params,
    .get_grads = fx_get_grads,
    .zero_grads = fx_zero_grads,
#ifdef PLUG_LAZYSTEP
    .forward_backward = fx_lazy_forward_backward,
#else
    .forward_backward = fx_forward_backward,
#endif
    .step = FX_STEP,
#ifndef PLUG_NULLSLOT
    .forward = FX_FORWARD,
#endif
#ifdef PLUG_LIBRARY
    .library = fx_library,
#endif
#ifdef PLUG_SLOWFLOOR
    .gemm_floor = fx_slow_floor,
#else
    .gemm_floor = cpu_mlp_gemm_floor,
#endif
#ifdef PLUG_PATHS
    .props = &props,
#endif
#ifdef PLUG_LAZY
    .set_dataset = fx_set_dataset,
    .train_steps = fx_train_steps,
#endif
#if defined(PLUG_LAZY) || defined(PLUG_LAZYSTEP)
    .sync = fx_sync,
#endif
};

#ifdef PLUG_NOENTRY /* the table under another name: a library, but no plugin */
const mlp_backend *not_the_entry(int harness_abi);
const mlp_backend *not_the_entry(int harness_abi) {
  return harness_abi ? &table : NULL;
}
#else
const mlp_backend *mlpbench_backend_entry(int harness_abi) {
#ifdef PLUG_NOTABLE           /* speaks no ABI this harness does */
  return harness_abi < 0 ? &table : NULL;
#elif defined(PLUG_ENTRYEXIT) /* ends the process that loads it */
  if (harness_abi) exit(0);
  return &table;
#elif defined(PLUG_ONCE)      /* loads once: later loads find MLPB_FIXTURE_MARK and give no table  \
                                 (as a file rebuilt between two loads) */
  (void)harness_abi;
  const char *mark = getenv("MLPB_FIXTURE_MARK");
  if (!mark || access(mark, F_OK) == 0) return NULL;
  FILE *fp = fopen(mark, "w");
  if (fp) fclose(fp);
  return &table;
#else
  (void)harness_abi; /* the fixtures answer any ABI, so the harness's own check is what runs */
  return &table;
#endif
}
#endif
