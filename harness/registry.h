/* registry.h: every backend mlpbench knows, built or not. */
#ifndef MLPB_REGISTRY_H
#define MLPB_REGISTRY_H

#include "../impls/mlp_backend.h"

int registry_count(void);
const mlp_backend *registry_get(int i);
const mlp_backend *registry_find(const char *name);

#endif
