/* blas.h: what the blas backend tells beyond the common interface. */
#ifndef MLPBENCH_BLAS_H
#define MLPBENCH_BLAS_H

#include <stddef.h>

/* The CBLAS library's name and version, its kernel ("core") and thread count. */
const char *blas_backend_library(void);
const char *blas_backend_corename(void);
int blas_backend_threads(void);

/* The kernel OPENBLAS_CORETYPE should name on this CPU (e.g. "SkylakeX"), or NULL. */
const char *blas_backend_best_coretype(void);

/* 1 if OPENBLAS_CORETYPE accepts this name (case as OpenBLAS: ignored). */
int blas_backend_known_coretype(const char *name);

/* 1 and a message if the library runs a generic kernel on a CPU with wider vectors. */
int blas_backend_kernel_advice(char *buf, size_t len);

#endif
