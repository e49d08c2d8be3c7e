#include "plan.h"

#include <stdlib.h>

int plan_add_backend(run_plan *p, const mlp_backend *be) {
  if (p->n_backends == p->cap_backends) {
    /* the old list stays where it was: a copy of this plan may still read it */
    int cap = p->cap_backends ? 2 * p->cap_backends : 8;
    const mlp_backend **grown = malloc(sizeof *grown * (size_t)cap);
    if (!grown) return -1;
    for (int i = 0; i < p->n_backends; i++)
      grown[i] = p->backends[i];
    static const mlp_backend ***kept; /* every list handed out, reachable until exit */
    static int n_kept;
    const mlp_backend ***k = realloc(kept, sizeof *k * (size_t)(n_kept + 1));
    if (!k) {
      free(grown);
      return -1;
    }
    kept = k;
    kept[n_kept++] = grown;
    p->backends = grown;
    p->cap_backends = cap;
  }
  p->backends[p->n_backends++] = be;
  return 0;
}

int plan_repeat(const run_plan *p, const workload *w) {
  return p->repeat ? p->repeat : w->default_repeat;
}

int plan_block(const run_plan *p, const workload *w) {
  if (!w->default_block) return 1; /* one epoch per sample: --block is for sub-us epochs */
  return p->block ? p->block : w->default_block;
}
