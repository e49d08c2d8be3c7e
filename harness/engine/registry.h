/* registry.h: every backend mlpbench knows, built or not. */
#ifndef MLPB_REGISTRY_H
#define MLPB_REGISTRY_H

#include <stdio.h>

#include "../../impls/mlp_backend.h"

int registry_count(void);
const mlp_backend *registry_get(int i);
const mlp_backend *registry_find(const char *name);

/* Each available backend's advice about this machine's environment, one line each after
 * `prefix`; returns how many were printed. */
int registry_print_advice(FILE *f, const char *prefix);

#endif
