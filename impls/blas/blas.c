/* blas.c: the three layer products through cblas_sgemm; the rest is cpu_mlp.c. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

#include "../common/cpu_mlp.h"

#ifdef MLPB_BLAS_OPENMP
#include <omp.h>
#endif

#ifdef MLPB_OPENBLAS
/* Debian's cblas.h declares these only for OpenBLAS; repeat them for other layouts. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
#endif

// C (M, N) = A (M, K) @ B (K, N)
static void matmul_nn(float *C, const float *A, const float *B, int M, int N, int K) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
}

// C (M, N) += A^T @ B, with A (K, M) and B (K, N)
static void matmul_tn_acc(float *C, const float *A, const float *B, int M, int N, int K) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, A, M, B, N, 1.0f, C, N);
}

// C (M, N) = A^T @ B, with A (K, M) and B (K, N)
static void matmul_tn(float *C, const float *A, const float *B, int M, int N, int K) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, A, M, B, N, 0.0f, C, N);
}

// C (M, N) = A (M, K) @ B^T, with B (N, K)
static void matmul_nt(float *C, const float *A, const float *B, int M, int N, int K) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
}

#ifdef MLPB_BLAS_OPENMP
/* OpenBLAS built on OpenMP runs its products on the OpenMP runtime's thread pool; the step's
 * own loops join that pool with as many threads as the products use, so nothing competes
 * with a worker that spins between products. */
static void blas_parallel(cpu_task fn, void *arg) {
  int threads = openblas_get_num_threads();
  if (threads < 2) {
    fn(arg, 0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  fn(arg, omp_get_thread_num(), omp_get_num_threads());
}
#define BLAS_PARALLEL blas_parallel
/* libgomp's idle threads spin 300,000 rounds (milliseconds) before they sleep. When another
 * process holds a core, a spinning thread competes for the core the thread it waits for
 * needs, and every fork-join waits for time slices: under one busy loop per core the
 * classifier's 2-thread epoch went from 24 ms to 588 ms (issue 24). A steady load is met by
 * fewer threads (set_threads, harness/run/thread_fit.h); the spin bounds what a load that
 * starts inside a sample costs. 10,000 rounds (a fraction of a millisecond) still bridge the
 * gaps between a step's parallel regions: on the quiet machine the Fashion epoch ran within
 * 1% of the default, where 1,000 rounds let the workers sleep between regions and cost 8%
 * and passive waiting 55% (results/reference/issue24-thread-fit.md). */
static const mlp_wait_policy blas_wait = {.user_vars = {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", NULL},
                                          .name = "GOMP_SPINCOUNT",
                                          .value = "10000"};
#define BLAS_WAIT (&blas_wait)
#else
/* The pthreads build's workers spin on their own between products: a second pool of ours
 * would share the cores with them (issue 11's helper thread for Adam was slower for it), so
 * the loops stay on the calling thread. */
#define BLAS_PARALLEL NULL
#define BLAS_WAIT NULL
#endif

static const cpu_matmul_ops blas_matmul = {matmul_nn, matmul_tn_acc, matmul_nt, matmul_tn,
                                           BLAS_PARALLEL};

static const char *blas_backend_library(void) {
#ifdef MLPB_OPENBLAS
  return openblas_get_config();
#else
  return "CBLAS (not OpenBLAS: kernel and threads unknown)";
#endif
}

static const char *blas_backend_corename(void) {
#ifdef MLPB_OPENBLAS
  return openblas_get_corename();
#else
  return "unknown";
#endif
}

static int blas_backend_threads(void) {
#ifdef MLPB_OPENBLAS
  return openblas_get_num_threads();
#else
  return 0;
#endif
}

/* The kernel OPENBLAS_CORETYPE should name on this CPU, or NULL. The rule, by what the CPU
 * supports, widest first: AVX512-BF16 (with F, BW, VL) Cooperlake; AVX-512 F, BW and VL
 * SkylakeX; AVX2 with FMA Haswell. Cooperlake's kernels are SkylakeX's plus BF16 ones, so a
 * CPU that has both gets the newer set; OpenBLAS 0.3.21 has no SapphireRapids kernels. */
static const char *blas_backend_best_coretype(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
  if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return NULL;
}

static int blas_backend_known_coretype(const char *name) {
  /* the names OpenBLAS's DYNAMIC_ARCH build takes in OPENBLAS_CORETYPE (x86_64) */
  static const char *known[] = {
      "Katmai",       "Coppermine",     "Northwood",  "Prescott",    "Banias", "Atom",
      "Core2",        "Penryn",         "Dunnington", "Nehalem",     "Athlon", "Opteron",
      "Opteron_SSE3", "Barcelona",      "Nano",       "Sandybridge", "Bobcat", "Bulldozer",
      "Piledriver",   "Steamroller",    "Excavator",  "Haswell",     "Zen",    "SkylakeX",
      "Cooperlake",   "SapphireRapids", NULL};
  for (int i = 0; known[i]; i++)
    if (strcasecmp(name, known[i]) == 0) return 1;
  return 0;
}

/* 1 and a message if the library runs a generic kernel on a CPU with wider vectors. */
static int blas_advice(const mlp_backend *self, char *buf, size_t len) {
  (void)self;
  static const char *generic[] = {"Prescott", "Katmai",      "Coppermine", "Northwood",
                                  "Core2",    "Penryn",      "Dunnington", "Nehalem",
                                  "Atom",     "Barcelona",   "Opteron",    "Athlon",
                                  "Bobcat",   "Sandybridge", NULL};
  const char *core = blas_backend_corename(), *best = blas_backend_best_coretype();
  if (!best || !core) return 0;
  for (int i = 0; generic[i]; i++)
    if (strcmp(core, generic[i]) == 0) {
      snprintf(buf, len,
               "OpenBLAS runs its generic '%s' kernels on a CPU with %s; GEMM is then several "
               "times slower. Run with OPENBLAS_CORETYPE=%s, or let mlpbench choose "
               "(--blas-kernel auto, its default: it re-runs itself that way and checks the "
               "gradients).",
               core, strcmp(best, "Haswell") == 0 ? "AVX2" : "AVX-512", best);
      return 1;
    }
  return 0;
}

/* --blas-kernel auto|NAME: OpenBLAS picks its kernels when it loads, so the setting needs a
 * fresh process; the caller re-runs itself with OPENBLAS_CORETYPE set. */
static int blas_tuned_env(const mlp_backend *self, const char *request, char *name, size_t nlen,
                          char *value, size_t vlen, char *err, size_t elen) {
  const char *want = request;
  char advice[512];
  if (strcmp(request, "default") == 0) return 0; /* the library's own choice */
  if (strcmp(request, "auto") == 0) {
    /* only where the library fell back to a generic kernel: a kernel it chose for this CPU
     * stays, so auto never trades a tuned kernel for an untested one */
    want = blas_backend_best_coretype();
    if (!want || !blas_advice(self, advice, sizeof advice)) return 0;
  } else if (!blas_backend_known_coretype(request)) {
    snprintf(err, elen,
             "'%s' is not an OpenBLAS kernel name (auto, default, Haswell, SkylakeX, Cooperlake, "
             "Zen, Sandybridge, Prescott, ...)",
             request);
    return -1;
  }
  if (strcasecmp(want, blas_backend_corename()) == 0) return 0;
  snprintf(name, nlen, "OPENBLAS_CORETYPE");
  snprintf(value, vlen, "%s", want);
  return 1;
}

static double blas_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *blas_map(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void blas_unmap(float *p, size_t bytes) {
  if (p) munmap(p, bytes);
}

/* One n^3 product's seconds, with operands of the largest size (lda = n: the first n*n). */
static double blas_time_square(float *a, float *b, float *c, int n) {
  double t0 = blas_now();
  matmul_nn(c, a, b, n, n, n);
  return blas_now() - t0;
}

/* The size doubles (512, 1024, 2048) while the next size's product (8x the time) would still
 * take at most a quarter of the budget, so a fast machine is timed on a product large enough
 * to reach its rate and a slow one stays inside the budget; then the best of three. */
static int blas_peak_gflops(const mlp_backend *self, const mlp_options *opt, double budget_s,
                            double *gflops, char *desc, size_t dlen, char *err, size_t elen) {
  (void)self;
  enum { NMAX = 2048 };
  size_t bytes = (size_t)NMAX * NMAX * sizeof(float);
  /* mapped, not malloc'd: freeing 16 MB blocks would raise malloc's mmap threshold, and the
   * runs measured next would then take their arrays from pages the heap already holds, which
   * hides them from the rows' peak-RSS figure */
  float *a = blas_map(bytes), *b = blas_map(bytes), *c = blas_map(bytes);
  int n = 512, rc = -1;
  if (!a || !b || !c) {
    snprintf(err, elen, "out of memory for the peak's %d^3 product", NMAX);
    goto done;
  }
  for (size_t i = 0; i < (size_t)NMAX * NMAX; i++) { /* small, normal values: no subnormal */
    a[i] = 0.5f + (float)(i % 7) * 0.0625f;
    b[i] = 0.25f + (float)(i % 5) * 0.125f;
  }
#ifdef MLPB_OPENBLAS
  if (opt->threads > 0) openblas_set_num_threads(opt->threads);
#else
  (void)opt;
#endif
  double t = blas_time_square(a, b, c, n); /* also warms the library's buffers and threads */
  while (n < NMAX && 8 * t <= budget_s / 4) {
    n *= 2;
    t = blas_time_square(a, b, c, n);
  }
  double best = t;
  for (int k = 0; k < 3; k++) {
    double s = blas_time_square(a, b, c, n);
    best = s < best ? s : best;
  }
  *gflops = 2.0 * n * n * (double)n / best / 1e9;
  snprintf(desc, dlen, "cblas_sgemm %d^3, best of 3, %d threads", n, blas_backend_threads());
  rc = 0;
done:
  blas_unmap(a, bytes);
  blas_unmap(b, bytes);
  blas_unmap(c, bytes);
  return rc;
}

static int blas_library(const mlp_backend *self, mlp_library *out) {
  (void)self;
  snprintf(out->library, sizeof out->library, "%s", blas_backend_library());
  snprintf(out->kernel, sizeof out->kernel, "%s", blas_backend_corename());
  out->threads = blas_backend_threads();
  return 0;
}

static void blas_path(void *ctx, char *buf, size_t len) {
  (void)ctx;
  snprintf(buf, len, "cblas_sgemm, kernel %s", blas_backend_corename());
}

static int blas_available(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  if (len) why[0] = '\0';
  return 1;
}

static void blas_describe(const mlp_backend *self, void *ctx, char *buf, size_t len) {
  (void)self, (void)ctx;
  snprintf(buf, len, "%s; kernel %s; %d threads", blas_backend_library(), blas_backend_corename(),
           blas_backend_threads());
}

#ifdef MLPB_OPENBLAS
/* one pool per process (OpenBLAS's), shared by the products and the step's own loops
 * (BLAS_PARALLEL asks it), so one call moves both */
static int blas_set_threads(void *ctx, int threads) {
  (void)ctx;
  openblas_set_num_threads(threads);
  return 0;
}
#define BLAS_SET_THREADS blas_set_threads
#else
#define BLAS_SET_THREADS NULL
#endif

static void *blas_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                         char *err, size_t len) {
  (void)self;
#ifdef MLPB_OPENBLAS
  if (opt->threads > 0) openblas_set_num_threads(opt->threads);
#endif
  return cpu_mlp_create(spec, opt, &blas_matmul, err, len);
}

const mlp_backend mlp_backend_blas = {
    .name = "blas",
    .summary = "cblas_sgemm for the layer products, loops elsewhere",
    .available = blas_available,
    .describe = blas_describe,
    .create = blas_create,
    CPU_MLP_SLOTS,
    .path = blas_path,
    .library = blas_library,
    .advice = blas_advice,
    .tuned_env = blas_tuned_env,
    .wait_policy = BLAS_WAIT,
    .peak_gflops = blas_peak_gflops,
    .set_threads = BLAS_SET_THREADS,
};
