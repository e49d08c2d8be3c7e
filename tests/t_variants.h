/* t_variants.h: every backend a test should cover: each available backend once for each code
 * path it offers (mlp_props.paths), so a second path gets the same checks as the first. */
#ifndef MLPB_T_VARIANTS_H
#define MLPB_T_VARIANTS_H

#include <stdio.h>
#include <string.h>

#include "../harness/backends/be_handle.h"
#include "../harness/backends/registry.h"

#define T_MAX_VARIANTS 16

typedef struct {
  const mlp_backend *be;
  mlp_options opt;
  char path[32];  /* the path asked for, "" for a backend's only one */
  char label[48]; /* name, or name/path */
} t_variant;

/* Fills v (room for T_MAX_VARIANTS) from the registry, options from base; returns the count. */
static inline int t_variants(const mlp_options *base, t_variant *v) {
  int n = 0;
  char why[256];
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    if (!be->available(be, why, sizeof why)) continue;
    const char *paths = be_props(be)->paths, *p = paths;
    do {
      if (n == T_MAX_VARIANTS) return n;
      t_variant *t = &v[n++];
      memset(t, 0, sizeof *t);
      t->be = be;
      t->opt = *base;
      if (p) {
        size_t len = strcspn(p, ",");
        snprintf(t->path, sizeof t->path, "%.*s", (int)len, p);
        t->opt.path = t->path;
        snprintf(t->label, sizeof t->label, "%s/%s", be->name, t->path);
        p = p[len] ? p + len + 1 : NULL;
      } else {
        snprintf(t->label, sizeof t->label, "%s", be->name);
      }
    } while (p);
  }
  return n;
}

#endif
