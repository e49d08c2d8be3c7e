/* mlpbench bench: per-epoch timing of each backend on each workload, correctness first;
 * writes a results file (always), and optionally a Markdown table and plots. */
#define _GNU_SOURCE
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../impls/blas/blas.h"
#include "cli.h"
#include "gradcheck.h"
#include "interrupt.h"
#include "outfile.h"
#include "peers.h"
#include "plots.h"
#include "registry.h"
#include "report.h"
#include "results.h"
#include "stats.h"
#include "sweep.h"
#include "table.h"
#include "trainer.h"

static const char *bench_allowed = "bwdneBHlSZstFTWrkKfqRMPxOp";

/* One run from fresh weights; timed samples are appended to row->samples. The last run
 * also records the per-epoch curves (evaluation is never timed). */
static int bench_run(const cli_opts *o, const workload *w, report_row *row, int last,
                     trainer *keep) {
  const int block = cli_timing_block(o, w), n_blocks = (w->epochs + block - 1) / block;
  mlp_options bo = cli_backend_options(o);
  trainer t;
  if (trainer_open(&t, registry_find(row->backend), &bo, w, o->seed)) {
    snprintf(row->error, sizeof row->error, "%s", t.err);
    return -1;
  }
  t.progress = !o->quiet;
  t.label = row->backend;
  for (int b = 0; b < n_blocks; b++) {
    int k = w->epochs - b * block < block ? w->epochs - b * block : block;
    double sec, loss;
    if (trainer_epochs(&t, k, &sec, &loss)) goto fail;
    if (b >= o->warmup) {
      row->cpu_samples[row->n_samples] = t.last_cpu / k;
      row->samples[row->n_samples++] = sec / k;
    }
    if (last && w->kind == WL_MNIST) {
      row->epoch_loss[row->n_epochs] = loss;
      if (trainer_accuracy(&t, w->x_val, w->y_val, w->n_val, &row->epoch_val_acc[row->n_epochs]))
        goto fail;
      row->n_epochs++;
    } else if (last && row->n_epochs < n_blocks) {
      row->epoch_loss[row->n_epochs] = loss;
      row->epoch_val_acc[row->n_epochs++] = NAN;
    }
  }
  row->val_acc = row->test_acc = NAN; /* null in the results file unless measured */
  if (last && w->kind == WL_MNIST) {
    row->val_acc = row->n_epochs ? row->epoch_val_acc[row->n_epochs - 1] : NAN;
    if (w->n_test && trainer_accuracy(&t, w->x_test, w->y_test, w->n_test, &row->test_acc))
      goto fail;
  }
  if (keep)
    *keep = t; /* the caller draws the montage from the trained model, then closes it */
  else
    trainer_close(&t);
  return 0;
fail:
  snprintf(row->error, sizeof row->error, "%s", t.err);
  trainer_close(&t);
  return -1;
}

static void fill_workload_info(const cli_opts *o, const workload *w, const mlpb_dataset *d,
                               report_workload *rw) {
  snprintf(rw->name, sizeof rw->name, "%s", w->name);
  rw->spec = w->spec;
  snprintf(rw->dataset, sizeof rw->dataset, "%s", w->kind == WL_TOY ? "toy" : d->name);
  snprintf(rw->dataset_source, sizeof rw->dataset_source, "%s",
           w->kind == WL_TOY ? "the tutorial's 3x4 input" : d->source);
  rw->dataset_hash = w->kind == WL_TOY ? 0 : d->hash;
  rw->n_train = w->n_train;
  rw->n_val = w->n_val;
  rw->n_test = w->n_test;
  rw->batch = w->batch;
  rw->batches_per_epoch = w->batches_per_epoch;
  rw->epochs = w->epochs;
  rw->warmup = o->warmup;
  rw->repeat = cli_repeat(o, w);
  rw->block = cli_timing_block(o, w);
  snprintf(rw->sampling, sizeof rw->sampling, "%s",
           w->kind == WL_TOY                   ? "full batch"
           : w->sampling == WL_SAMPLE_TUTORIAL ? "tutorial sampling"
                                               : "shuffled epochs");
  rw->zero_grad = w->zero_grad;
  if (w->kind == WL_TOY) {
    rw->samples_per_epoch = w->n_train;
    rw->gflop_per_epoch = workload_step_flops(&w->spec, w->n_train) / 1e9;
  } else if (w->sampling == WL_SAMPLE_TUTORIAL) {
    rw->samples_per_epoch = (double)w->batches_per_epoch * w->batch;
    rw->gflop_per_epoch = workload_step_flops(&w->spec, w->batch) * w->batches_per_epoch / 1e9;
  } else {
    rw->samples_per_epoch = w->n_train;
    rw->gflop_per_epoch = workload_step_flops(&w->spec, w->n_train) / 1e9;
  }
}

static int alloc_row(report_row *r, int n_samples, int n_epochs) {
  r->samples = calloc((size_t)n_samples, sizeof(double));
  r->cpu_samples = calloc((size_t)n_samples, sizeof(double));
  r->epoch_loss = calloc((size_t)n_epochs, sizeof(double));
  r->epoch_val_acc = calloc((size_t)n_epochs, sizeof(double));
  return r->samples && r->cpu_samples && r->epoch_loss && r->epoch_val_acc ? 0 : -1;
}

static int bench_workload(const cli_opts *o, wl_kind kind, const void **bes, int nb, report *rep) {
  mlpb_dataset d;
  workload w;
  gc_batch gb = {0};
  double ref_loss = 0.0, *ref = NULL;
  float *params = NULL;
  trainer montage_model = {0};
  int rc = cli_setup_workload(o, kind, &d, &w);
  if (rc) return rc;
  report_workload *rw = &rep->wl[rep->n_wl++];
  fill_workload_info(o, &w, &d, rw);
  const int per_run = (w.epochs + rw->block - 1) / rw->block;
  if (o->warmup >= per_run) {
    fprintf(stderr,
            "mlpbench bench: --warmup %d leaves no timed samples (%s has %d per run; raise "
            "--epochs or lower --warmup)\n",
            o->warmup, w.name, per_run);
    rc = EXIT_USAGE;
    goto done;
  }
  rc = EXIT_RUNTIME;
  params = malloc(mlp_param_count(&w.spec) * sizeof(float));
  if (!params || gc_batch_make(&w, o->seed, &gb)) goto oom;
  workload_init_params(&w, o->seed, params);
  if (gc_reference(&w, params, &gb.b, &ref_loss, &ref)) goto oom;
  rc = EXIT_OK;
  mlp_options bo = cli_backend_options(o);
  for (int i = 0; i < nb && !mlpb_stop_signal; i++) {
    const mlp_backend *be = bes[i];
    if (rw->n_rows >= REPORT_MAX_ROWS) break; /* cmd_bench caps backends + peers up front */
    report_row *r = &rw->rows[rw->n_rows++];
    snprintf(r->backend, sizeof r->backend, "%s", be->name);
    if (alloc_row(r, rw->repeat * per_run, per_run)) goto oom;
    double tol = gc_tolerance(be, o->tf32);
    /* correctness before speed: the check runs first and its verdict travels with the row */
    int gc_failed = gc_check_backend(be, &bo, &w, &gb.b, params, ref_loss, ref, tol, &r->gc,
                                     r->error, sizeof r->error);
    /* described once a context exists, so options applied at create (threads) show */
    if (be->describe) be->describe(r->details, sizeof r->details);
    if (strcmp(be->name, "cuda") == 0)
      snprintf(rep->ctx.gpu, sizeof rep->ctx.gpu, "%s", r->details);
    if (gc_failed) {
      fprintf(stderr, "mlpbench bench: %s\n", r->error);
      rc = EXIT_RUNTIME;
      continue;
    }
    r->gc_done = 1;
    if (!r->gc.pass && rc == EXIT_OK) rc = EXIT_CHECK;
    int failed = 0,
        want_model = o->plots_dir && kind == WL_MNIST && r->gc.pass && !montage_model.ctx;
    for (int k = 0; k < rw->repeat && !failed; k++) {
      int last = k == rw->repeat - 1;
      failed = bench_run(o, &w, r, last, last && want_model ? &montage_model : NULL);
    }
    if (failed) {
      fprintf(stderr, "mlpbench bench: %s\n", r->error);
      rc = EXIT_RUNTIME;
      continue;
    }
    r->ran = 1;
    r->st = stats_summarize(r->samples, r->n_samples);
    r->samples_per_s = rw->samples_per_epoch / r->st.median;
    r->gflops = rw->gflop_per_epoch / r->st.median;
  }
  if (o->peers && !mlpb_stop_signal) {
    char list[128];
    snprintf(list, sizeof list, "%s", o->peers);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
      if (peers_bench(p, o, &w, params, &gb.b, ref_loss, ref, rw) < 0) rc = EXIT_RUNTIME;
  }
  if (o->sweep && kind == WL_MNIST && !mlpb_stop_signal) sweep_run(o, &w, rw);
  if (montage_model.ctx && !mlpb_stop_signal) plots_montage(o->plots_dir, &w, &d, &montage_model);
  if (montage_model.ctx) trainer_close(&montage_model);
  report_sort_rows(rw);
  goto done;
oom:
  fprintf(stderr, "mlpbench bench: out of memory\n");
done:
  gc_batch_free(&gb);
  free(ref);
  free(params);
  workload_free(&w);
  dataset_free(&d);
  return rc;
}

static void default_results_path(char *out, size_t len) {
  char stamp[32];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
  report_context c;
  report_context_fill(&c, 0, NULL);
  snprintf(out, len, "results/bench-%s-%s.json", stamp, c.host);
}

static int write_outputs(const cli_opts *o, const report *rep, const char *results_path) {
  char err[PATH_MAX + 256];
  json_t *j = results_to_json(rep, o->format);
  int rc = j ? results_write(results_path, j, err, sizeof err) : -1;
  json_decref(j);
  if (rc) {
    fprintf(stderr, "mlpbench bench: %s\n", j ? err : "could not build the results JSON");
    return EXIT_RUNTIME;
  }
  fprintf(stderr, "mlpbench bench: results written to %s\n", results_path);
  if (o->markdown) {
    outfile md;
    if (outfile_open(&md, o->markdown, err, sizeof err)) {
      fprintf(stderr, "mlpbench bench: %s\n", err);
      return EXIT_RUNTIME;
    }
    fprintf(md.f, "# mlpbench results\n");
    for (int i = 0; i < rep->n_wl; i++) {
      table_print_header(md.f, rep, &rep->wl[i]);
      table_print(md.f, &rep->wl[i]);
    }
    if (outfile_commit(&md, err, sizeof err)) {
      fprintf(stderr, "mlpbench bench: %s\n", err);
      return EXIT_RUNTIME;
    }
  }
  if (o->plots_dir && plots_draw(o->plots_dir, rep)) return EXIT_RUNTIME;
  return EXIT_OK;
}

int cmd_bench(int argc, char **argv) {
  cli_opts o;
  char default_path[256], err[PATH_MAX + 256];
  const char *results_path = default_path;
  int rc = cli_parse(argc, argv, "bench", bench_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("bench", bench_allowed,
                     "Times each backend per epoch (median, IQR, min, max over the timed "
                     "samples) after checking its gradients,\nand writes every sample to a "
                     "results file. GFLOP/s counts the GEMMs only: 4*n_in*H + 6*H*n_out FLOPs "
                     "per sample per step.");
    return rc < 0 ? EXIT_OK : rc;
  }
  cli_apply_blas_kernel(&o);
  if (o.results)
    results_path = o.results; /* never copied into a fixed buffer: checked, not truncated */
  else
    default_results_path(default_path, sizeof default_path);
  /* an unwritable destination is reported now, not after a long run */
  if (results_check_writable(results_path, err, sizeof err) ||
      (o.markdown && results_check_writable(o.markdown, err, sizeof err)) ||
      (o.plots_dir && plots_check_dir(o.plots_dir, err, sizeof err))) {
    fprintf(stderr, "mlpbench bench: %s\n", err);
    return EXIT_USAGE;
  }
  const void *bes[CLI_MAX_BACKENDS];
  int worst, nb = cli_select_backends(&o, bes, &worst);
  if (worst == EXIT_USAGE) return worst;
  int n_peers = 0;
  for (const char *p = o.peers; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
    n_peers++;
  if (nb + n_peers > REPORT_MAX_ROWS) {
    fprintf(stderr, "mlpbench bench: %d backends and %d peers: a table holds at most %d rows\n", nb,
            n_peers, REPORT_MAX_ROWS);
    return EXIT_USAGE;
  }
  report rep;
  memset(&rep, 0, sizeof rep);
  report_context_fill(&rep.ctx, argc + 1, argv - 1);
  rep.ctx.seed = o.seed;
  rep.ctx.ftz = o.ftz;
  rep.ctx.tf32 = o.tf32;
  wl_kind kinds[2];
  int nk = cli_workloads(&o, kinds);
  interrupt_install();
  for (int k = 0; k < nk && !mlpb_stop_signal; k++) {
    int r = bench_workload(&o, kinds[k], bes, nb, &rep);
    if (r == EXIT_USAGE) {
      report_free(&rep);
      return r;
    }
    worst = r > worst ? r : worst;
    report_workload *w = &rep.wl[rep.n_wl - 1];
    report_context_refresh(&rep.ctx); /* what the backends set up (BLAS threads) */
    table_print_header(stdout, &rep, w);
#ifdef MLPBENCH_HAVE_BLAS
    char advice[512];
    if (blas_backend_kernel_advice(advice, sizeof advice)) printf("warning: %s\n", advice);
#endif
    table_print(stdout, w);
  }
  if (mlpb_stop_signal) {
    /* what finished is on the screen above; a results file must hold a whole run */
    fprintf(stderr, "mlpbench bench: interrupted by signal %d: no results file written\n",
            (int)mlpb_stop_signal);
    report_free(&rep);
    return interrupt_exit_code();
  }
  int wr = write_outputs(&o, &rep, results_path);
  worst = wr > worst ? wr : worst;
  report_free(&rep);
  return worst;
}
