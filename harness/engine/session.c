#include "session.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sys/exitcode.h"
#include "../sys/term_text.h"

int session_open(wl_session *s, const wl_entry *e, const run_plan *p, int check, const char *cmd) {
  char err[PATH_MAX + 256];
  memset(s, 0, sizeof *s);
  int rc = e->needs_data ? dataset_load(p->data, &s->d, err, sizeof err) : 0;
  if (!rc) rc = e->build(&s->w, &s->d, &p->wl, err, sizeof err);
  if (rc) {
    fprintf(stderr, "mlpbench %s: %s\n", cmd, TERM_TEXT(err));
    dataset_free(&s->d);
    return rc == MLPB_ERR_NOMEM ? EXIT_RUNTIME : EXIT_USAGE;
  }
  if (!check) return 0;
  s->params = malloc(mlp_param_count(&s->w.spec) * sizeof(float));
  if (!s->params || gc_batch_make(&s->w, p->seed, &s->gb)) goto oom;
  workload_init_params(&s->w, p->seed, s->params);
  if (gc_reference(&s->w, s->params, &s->gb.b, &s->ref_loss, &s->ref)) goto oom;
  return 0;
oom:
  fprintf(stderr, "mlpbench %s: out of memory setting up %s\n", cmd, e->name);
  session_close(s);
  return EXIT_RUNTIME;
}

void session_close(wl_session *s) {
  gc_batch_free(&s->gb);
  free(s->ref);
  free(s->params);
  workload_free(&s->w);
  dataset_free(&s->d);
  memset(s, 0, sizeof *s);
}
