#include "registry.h"
#include "../sys/term_text.h"
#include "be_handle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const mlp_backend mlp_backend_naive;
#ifdef MLPB_HAVE_BLAS
extern const mlp_backend mlp_backend_blas;
#endif
#ifdef MLPB_HAVE_CUDA
extern const mlp_backend mlp_backend_cuda;
#endif
#ifdef MLPB_HAVE_CUDA_EMU
extern const mlp_backend mlp_backend_cuda_emu;
#endif

/* A backend left out at configure time still shows in `list`, with the reason. */
#ifndef MLPB_HAVE_BLAS
static int blas_missing(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  snprintf(why, len,
           "not built: no CBLAS found at configure time (apt-get install "
           "libopenblas-dev, then reconfigure)");
  return 0;
}
static const mlp_backend mlp_backend_blas = {.name = "blas", .available = blas_missing};
#endif
#ifndef MLPB_HAVE_CUDA
static int cuda_missing(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  snprintf(why, len, "not built (needs the CUDA toolkit and -DMLPBENCH_CUDA=AUTO|ON)");
  return 0;
}
static const mlp_backend mlp_backend_cuda = {.name = "cuda", .available = cuda_missing};
#endif

#ifndef MLPB_HAVE_CUDA_EMU
static int cuda_emu_missing(const mlp_backend *self, char *why, size_t len) {
  (void)self;
  snprintf(why, len,
           "not built (the CUDA kernels on the CPU: -DMLPBENCH_HIP_CPU=DIR with the HIP CPU "
           "runtime, and libtbb-dev)");
  return 0;
}
static const mlp_backend mlp_backend_cuda_emu = {.name = "cuda-emu", .available = cuda_emu_missing};
#endif

static const mlp_backend *const all[] = {&mlp_backend_naive, &mlp_backend_blas, &mlp_backend_cuda,
                                         &mlp_backend_cuda_emu};

#define N_BUILTIN ((int)(sizeof all / sizeof all[0]))

/* backends loaded from plugins (plugins.c), after the built-in ones */
static const mlp_backend **loaded;
static int n_loaded, cap_loaded;

int registry_count(void) {
  return N_BUILTIN + n_loaded;
}

int registry_builtin_count(void) {
  return N_BUILTIN;
}

const mlp_backend *registry_get(int i) {
  return i < N_BUILTIN ? all[i] : loaded[i - N_BUILTIN];
}

const mlp_backend *registry_find(const char *name) {
  for (int i = 0; i < registry_count(); i++)
    if (strcmp(registry_get(i)->name, name) == 0) return registry_get(i);
  return NULL;
}

int registry_add(const mlp_backend *be) {
  if (n_loaded == cap_loaded) {
    int cap = cap_loaded ? 2 * cap_loaded : 8;
    const mlp_backend **grown = realloc(loaded, sizeof *loaded * (size_t)cap);
    if (!grown) return -1;
    loaded = grown;
    cap_loaded = cap;
  }
  loaded[n_loaded++] = be;
  return 0;
}

int registry_print_advice(FILE *f, const char *prefix) {
  char why[256], advice[512];
  int n = 0;
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    if (!be_available(be, why, sizeof why) || !be_advice(be, advice, sizeof advice)) continue;
    fprintf(f, "%s%s\n", prefix, TERM_TEXT(advice)); /* it quotes the environment */
    n++;
  }
  return n;
}

/* A kernel named with --blas-kernel is set in the environment before the library loads; a
 * library that does not have it runs another and says nothing (OpenBLAS 0.3.21 takes
 * OPENBLAS_CORETYPE=SapphireRapids and runs Cooperlake). Once loaded, each backend is asked
 * again: one that would still need the environment changed did not get what was asked, and
 * its library names the kernel it runs instead. */
int registry_kernel_unmet(const char *request, char *err, size_t len) {
  char why[256], name[64], value[64], e[256];
  mlp_library lib;
  if (!request || strcmp(request, "auto") == 0 || strcmp(request, "default") == 0) return 0;
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    if (!be_offers(be, BE_TUNED_ENV) || !be_offers(be, BE_LIBRARY) ||
        !be_available(be, why, sizeof why))
      continue;
    if (be_tuned_env(be, request, name, sizeof name, value, sizeof value, e, sizeof e) != 1)
      continue;
    if (be_library(be, &lib)) snprintf(lib.kernel, sizeof lib.kernel, "another");
    snprintf(err, len,
             "--blas-kernel %s: %s's library runs its %s kernels instead (%s=%s was set before "
             "it loaded; this build of it has no such kernel, or none for this CPU): name one "
             "it has, or --blas-kernel default",
             TERM_TEXT(request), be->name, TERM_TEXT(lib.kernel), name, TERM_TEXT(value));
    return 1;
  }
  return 0;
}
