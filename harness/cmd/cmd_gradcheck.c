#define _GNU_SOURCE
/* mlpbench gradcheck: every backend's loss and gradients on identical weights and batch,
 * against the float64 reference, which is itself checked by finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backends/registry.h"
#include "../check/gradcheck.h"
#include "../run/peers.h"
#include "../run/session.h"
#include "../sys/term_text.h"
#include "cli.h"

static const char *gc_allowed = "bwdnBHsStFTCfKqEJ";

static void print_row(const char *be, const gc_result *r) {
  printf("| %-6s | %.3e |", be, r->loss_rel);
  for (int t = 0; t < 4; t++)
    printf(" %.2e / %.1e |", r->t[t].rel_l2, r->t[t].max_abs);
  printf(" %.2e | %.0e | %s |\n", r->worst * r->worst, r->tol, r->pass ? "pass" : "FAIL");
}

static int check_workload(const run_plan *p, const wl_entry *e) {
  wl_session s;
  int rc = session_open(&s, e, p, 1, "gradcheck");
  if (rc) return rc;
  const workload *w = &s.w;
  gc_fd_result fd;
  if (gc_finite_differences(&w->spec, s.params, &s.gb.b, s.ref, p->fd_samples, p->seed, &fd)) {
    fprintf(stderr, "mlpbench gradcheck: out of memory in finite differences\n");
    session_close(&s);
    return EXIT_RUNTIME;
  }
  printf("\n## gradcheck: %s %d-%d-%d, batch %d of %s, seed %llu\n\n", w->name, w->spec.n_in,
         w->spec.n_hidden, w->spec.n_out, s.gb.b.n, TERM_TEXT(w->data_title),
         (unsigned long long)p->seed);
  if (s.odd.n)
    printf("each backend is also checked on an odd batch of its first %d samples; a backend "
           "that fails there shows that batch's figures\n\n",
           s.odd.n);
  printf("float64 reference loss %.9f; finite differences (Richardson, h = %.2g * max(1, |p|)): "
         "%d parameters, worst error %.2f of its bound, max rel err %.2e; %d ReLU kinks and %d "
         "below resolution skipped: %s\n\n",
         s.ref_loss, fd.step, fd.checked, fd.max_ratio, fd.max_rel, fd.skipped_kinks,
         fd.skipped_unresolved, fd.pass ? "pass" : "FAIL");
  printf("relative L2 error / max abs error per tensor, against the float64 reference\n\n");
  printf("| backend | loss rel | W1 | b1 | W2 | b2 | worst NMSE | tol | verdict |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
  rc = fd.pass ? EXIT_OK : EXIT_CHECK;
  for (int i = 0; i < p->n_backends; i++) {
    const mlp_backend *be = p->backends[i];
    gc_result r;
    char err[512] = "";
    if (session_check(&s, be, &p->opts, NULL, &r, err, sizeof err)) {
      printf("| %-6s | error: %s |\n", be->name, TERM_TEXT(err));
      rc = EXIT_RUNTIME;
      continue;
    }
    print_row(be->name, &r);
    if (!r.pass) {
      gc_failure_text(&r, err, sizeof err);
      fprintf(stderr, "mlpbench gradcheck: %s: FAILED %s\n", be->name, err);
    }
    if (!r.pass && rc == EXIT_OK) rc = EXIT_CHECK;
  }
  for (int i = 0; i < p->n_peers; i++) {
    gc_result r;
    int pr = peers_gradcheck(p->peers[i], p, &s, &r);
    if (pr == 0) {
      char name[32];
      snprintf(name, sizeof name, "%s (peer)", p->peers[i]);
      print_row(name, &r);
      if (!r.pass && rc == EXIT_OK) rc = EXIT_CHECK;
    } else if (pr < 0) {
      rc = EXIT_RUNTIME;
    }
  }
  session_close(&s);
  return rc;
}

int cmd_gradcheck(int argc, char **argv) {
  cli_opts o;
  run_plan p;
  int worst, rc = cli_parse(argc, argv, "gradcheck", gc_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help(
          "gradcheck", gc_allowed,
          "Compares every backend's loss and gradients with a float64 reference on "
          "identical weights and batch;\nexits 1 if any exceeds its tolerance "
          "(fp32: relative L2 1e-5; --tf32 on a TF32-capable backend: TF32's error model, "
          "harness/tf32.h).");
    return rc < 0 ? EXIT_OK : rc;
  }
  if ((rc = cli_apply_tuning(&o))) return rc;
  char kernel_err[512];
  if (registry_kernel_unmet(o.blas_kernel, kernel_err, sizeof kernel_err)) {
    fprintf(stderr, "mlpbench gradcheck: %s\n", TERM_TEXT(kernel_err));
    return EXIT_USAGE;
  }
  if ((rc = cli_plan(&o, "all", &p, &worst))) return rc;
  for (int k = 0; k < p.n_workloads; k++) {
    int r = check_workload(&p, p.workloads[k]);
    if (r == EXIT_USAGE) return r;
    worst = r > worst ? r : worst;
  }
  return worst;
}
