/* blas.c: the three layer products through cblas_sgemm; the rest is cpu_mlp.c. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/cpu_mlp.h"

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

static const cpu_matmul_ops blas_matmul = {matmul_nn, matmul_tn_acc, matmul_nt, matmul_tn};

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
static int blas_advice(char *buf, size_t len) {
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
static int blas_tuned_env(const char *request, char *name, size_t nlen, char *value, size_t vlen,
                          char *err, size_t elen) {
  const char *want = request;
  char advice[512];
  if (strcmp(request, "default") == 0) return 0; /* the library's own choice */
  if (strcmp(request, "auto") == 0) {
    /* only where the library fell back to a generic kernel: a kernel it chose for this CPU
     * stays, so auto never trades a tuned kernel for an untested one */
    want = blas_backend_best_coretype();
    if (!want || !blas_advice(advice, sizeof advice)) return 0;
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

static int blas_library(mlp_library *out) {
  snprintf(out->library, sizeof out->library, "%s", blas_backend_library());
  snprintf(out->kernel, sizeof out->kernel, "%s", blas_backend_corename());
  out->threads = blas_backend_threads();
  return 0;
}

static void blas_path(void *ctx, char *buf, size_t len) {
  (void)ctx;
  snprintf(buf, len, "cblas_sgemm, kernel %s", blas_backend_corename());
}

static int blas_available(char *why, size_t len) {
  if (len) why[0] = '\0';
  return 1;
}

static void blas_describe(char *buf, size_t len) {
  snprintf(buf, len, "%s; kernel %s; %d threads", blas_backend_library(), blas_backend_corename(),
           blas_backend_threads());
}

static void *blas_create(const mlp_spec *spec, const mlp_options *opt, char *err, size_t len) {
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
    .path = blas_path,
    .library = blas_library,
    .advice = blas_advice,
    .tuned_env = blas_tuned_env,
};
