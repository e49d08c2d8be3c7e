#include "session.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sys/exitcode.h"
#include "../sys/term_text.h"
#include "options.h"

int session_open(wl_session *s, const wl_entry *e, const run_plan *p, int check, const char *cmd) {
  char err[PATH_MAX + 256];
  memset(s, 0, sizeof *s);
  int rc = e->needs_data ? dataset_load(p->data, &s->d, err, sizeof err) : 0;
  wl_config cfg = opt_wl_config(p, e); /* what e takes of the plan's settings */
  if (!rc) rc = e->build(&s->w, &s->d, &cfg, err, sizeof err);
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
  /* a quarter of the check batch, made odd: 33 of 128, 1 of the toy net's 3 */
  int n = s->gb.b.n;
  if (n >= 2) {
    s->odd = s->gb.b;
    s->odd.n = (n / 4) | 1;
    if (gc_reference(&s->w, s->params, &s->odd, &s->odd_loss, &s->odd_ref)) goto oom;
  }
  return 0;
oom:
  fprintf(stderr, "mlpbench %s: out of memory setting up %s\n", cmd, e->name);
  session_close(s);
  return EXIT_RUNTIME;
}

void session_close(wl_session *s) {
  gc_batch_free(&s->gb);
  free(s->ref);
  free(s->odd_ref);
  free(s->params);
  workload_free(&s->w);
  dataset_free(&s->d);
  memset(s, 0, sizeof *s);
}

static int check_one(const wl_session *s, const mlp_backend *be, const mlp_options *opt,
                     be_handle *h, const mlp_batch *b, double ref_loss, const double *ref,
                     gc_result *r, char *err, size_t len) {
  gc_tol tol;
  if (gc_tolerance(be, opt, &s->w, s->params, b, &tol)) {
    snprintf(err, len, "out of memory in the TF32 error model");
    return -1;
  }
  if (h && b->n <= h->spec.max_batch)
    return gc_check_handle(h, &s->w, b, s->params, ref_loss, ref, &tol, r, err, len);
  return gc_check_backend(be, opt, &s->w, b, s->params, ref_loss, ref, &tol, r, err, len);
}

int session_check(const wl_session *s, const mlp_backend *be, const mlp_options *opt, be_handle *h,
                  gc_result *r, char *err, size_t len) {
  if (check_one(s, be, opt, h, &s->gb.b, s->ref_loss, s->ref, r, err, len)) return -1;
  if (!r->pass || s->odd.n == 0) return 0;
  gc_result o;
  if (check_one(s, be, opt, h, &s->odd, s->odd_loss, s->odd_ref, &o, err, len)) return -1;
  if (!o.pass) *r = o;
  return 0;
}
