/* registry.h: every backend mlpbench knows, built or not, and those loaded from plugins. */
#ifndef MLPB_REGISTRY_H
#define MLPB_REGISTRY_H

#include <stdio.h>

#include "../../impls/mlp_backend.h"

/* The built-in backends come first, then those loaded from plugins (plugins.h), in the
 * order they were loaded. */
int registry_count(void);
int registry_builtin_count(void);
const mlp_backend *registry_get(int i);
const mlp_backend *registry_find(const char *name);

/* Adds a backend loaded at run time (plugins.c checks its table and name first); 0, or -1
 * when out of memory. As many as are loaded: no cap. */
int registry_add(const mlp_backend *be);

/* Each available backend's advice about this machine's environment, one line each after
 * `prefix`; returns how many were printed. */
int registry_print_advice(FILE *f, const char *prefix);

/* --blas-kernel NAME after the re-run that set it: 1 and a message when a library loaded
 * without it (it runs another kernel and says nothing), else 0. */
int registry_kernel_unmet(const char *request, char *err, size_t len);

#endif
