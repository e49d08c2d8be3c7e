#define _GNU_SOURCE
/* mlpbench gradcheck: every backend's loss and gradients on identical weights and batch,
 * against the float64 reference, which is itself checked by finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gradcheck.h"
#include "peers.h"

static const char *gc_allowed = "bwdnBHsStFTfKqE";

static void print_row(const char *be, const gc_result *r) {
  printf("| %-6s | %.3e |", be, r->loss_rel);
  for (int t = 0; t < 4; t++)
    printf(" %.2e / %.1e |", r->t[t].rel_l2, r->t[t].max_abs);
  printf(" %.2e | %.0e | %s |\n", r->worst * r->worst, r->tol, r->pass ? "pass" : "FAIL");
}

static int check_workload(const cli_opts *o, wl_kind kind, const void **bes, int nb) {
  mlpb_dataset d;
  workload w;
  gc_batch gb;
  double ref_loss = 0.0, *ref = NULL;
  int rc = cli_setup_workload(o, kind, &d, &w);
  if (rc) return rc;
  rc = EXIT_RUNTIME;
  float *params = malloc(mlp_param_count(&w.spec) * sizeof(float));
  if (!params || gc_batch_make(&w, o->seed, &gb)) {
    fprintf(stderr, "mlpbench gradcheck: out of memory\n");
    goto done;
  }
  workload_init_params(&w, o->seed, params);
  if (gc_reference(&w, params, &gb.b, &ref_loss, &ref)) {
    fprintf(stderr, "mlpbench gradcheck: out of memory in the float64 reference\n");
    goto done_batch;
  }
  gc_fd_result fd;
  if (gc_finite_differences(&w, params, &gb.b, ref, o->fd_samples, o->seed, &fd)) {
    fprintf(stderr, "mlpbench gradcheck: out of memory in finite differences\n");
    goto done_batch;
  }
  printf("\n## gradcheck: %s %d-%d-%d, batch %d%s%s, seed %llu\n\n", w.name, w.spec.n_in,
         w.spec.n_hidden, w.spec.n_out, gb.b.n, kind == WL_MNIST ? " of " : "",
         kind == WL_MNIST ? d.name : "", (unsigned long long)o->seed);
  printf("float64 reference loss %.9f; finite differences: %d parameters, max rel err %.2e "
         "(tol %.0e), %d ReLU kinks skipped: %s\n\n",
         ref_loss, fd.checked, fd.max_rel, GC_TOL_FD, fd.skipped_kinks, fd.pass ? "pass" : "FAIL");
  printf("relative L2 error / max abs error per tensor, against the float64 reference\n\n");
  printf("| backend | loss rel | W1 | b1 | W2 | b2 | worst NMSE | tol | verdict |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
  rc = fd.pass ? EXIT_OK : EXIT_CHECK;
  mlp_options bo = cli_backend_options(o);
  for (int i = 0; i < nb; i++) {
    const mlp_backend *be = bes[i];
    gc_result r;
    char err[512];
    if (gc_check_backend(be, &bo, &w, &gb.b, params, ref_loss, ref, gc_tolerance(be, o->tf32), &r,
                         err, sizeof err)) {
      printf("| %-6s | error: %s |\n", be->name, err);
      rc = EXIT_RUNTIME;
      continue;
    }
    print_row(be->name, &r);
    if (!r.pass && rc == EXIT_OK) rc = EXIT_CHECK;
  }
  if (o->peers) {
    char list[128];
    snprintf(list, sizeof list, "%s", o->peers);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
      gc_result r;
      int pr = peers_gradcheck(p, o, &w, params, &gb.b, ref_loss, ref, &r);
      if (pr == 0) {
        char name[32];
        snprintf(name, sizeof name, "%s (peer)", p);
        print_row(name, &r);
        if (!r.pass && rc == EXIT_OK) rc = EXIT_CHECK;
      } else if (pr < 0) {
        rc = EXIT_RUNTIME;
      }
    }
  }
done_batch:
  gc_batch_free(&gb);
done:
  free(ref);
  free(params);
  workload_free(&w);
  dataset_free(&d);
  return rc;
}

int cmd_gradcheck(int argc, char **argv) {
  cli_opts o;
  int rc = cli_parse(argc, argv, "gradcheck", gc_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("gradcheck", gc_allowed,
                     "Compares every backend's loss and gradients with a float64 reference on "
                     "identical weights and batch;\nexits 1 if any exceeds its tolerance "
                     "(fp32: relative L2 1e-5; --tf32 on cuda: 5e-3).");
    return rc < 0 ? EXIT_OK : rc;
  }
  cli_apply_blas_kernel(&o);
  const void *bes[CLI_MAX_BACKENDS];
  int sel_rc, nb = cli_select_backends(&o, bes, &sel_rc);
  if (sel_rc == EXIT_USAGE) return sel_rc;
  wl_kind kinds[2];
  int nk = cli_workloads(&o, kinds), worst = sel_rc;
  for (int k = 0; k < nk; k++) {
    int r = check_workload(&o, kinds[k], bes, nb);
    if (r == EXIT_USAGE) return r;
    worst = r > worst ? r : worst;
  }
  return worst;
}
