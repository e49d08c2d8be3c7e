/* mlpbench bench: per-epoch timing of each backend on each workload, correctness first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../impls/blas/blas.h"
#include "cli.h"
#include "gradcheck.h"
#include "stats.h"
#include "timer.h"
#include "trainer.h"

static const char *bench_allowed = "bwdneBHlSZstFTWrkKfq";

typedef struct {
  const mlp_backend *be;
  int ran, gc_done;
  gc_result gc;
  double *samples;
  int ns;
  stats_summary st;
  double val_acc, test_acc, loss;
  char err[512];
} bench_row;

static void fmt_time(char *buf, size_t len, double s) {
  if (s < 1e-3)
    snprintf(buf, len, "%.3f us", s * 1e6);
  else if (s < 1.0)
    snprintf(buf, len, "%.2f ms", s * 1e3);
  else
    snprintf(buf, len, "%.3f s", s);
}

/* Toy epochs are sub-microsecond: time them in blocks (default: a tenth of the run, at most
 * 500 epochs, so 5000 epochs give 10 samples of ~0.1 ms, far above the clock's resolution). */
static int bench_block(const cli_opts *o, const workload *w) {
  if (w->kind != WL_TOY) return 1;
  if (o->block) return o->block;
  int b = w->epochs / 10;
  return b < 1 ? 1 : b > 500 ? 500 : b;
}

/* One run from fresh weights: the timed samples (per-epoch seconds) go to row->samples. */
static int bench_run(const cli_opts *o, const workload *w, bench_row *row, int last) {
  const int block = bench_block(o, w);
  const int n_blocks = (w->epochs + block - 1) / block;
  mlp_options bo = cli_backend_options(o);
  trainer t;
  if (trainer_open(&t, row->be, &bo, w, o->seed)) {
    snprintf(row->err, sizeof row->err, "%s", t.err);
    return -1;
  }
  t.progress = !o->quiet;
  for (int b = 0; b < n_blocks; b++) {
    int k = w->epochs - b * block < block ? w->epochs - b * block : block;
    double sec, loss;
    if (trainer_epochs(&t, k, &sec, &loss)) {
      snprintf(row->err, sizeof row->err, "%s", t.err);
      trainer_close(&t);
      return -1;
    }
    row->loss = loss;
    if (b >= o->warmup) row->samples[row->ns++] = sec / k;
  }
  int rc = 0;
  if (last && w->kind == WL_MNIST &&
      (trainer_accuracy(&t, w->x_val, w->y_val, w->n_val, &row->val_acc) ||
       trainer_accuracy(&t, w->x_test, w->y_test, w->n_test, &row->test_acc))) {
    snprintf(row->err, sizeof row->err, "%s", t.err);
    rc = -1;
  }
  trainer_close(&t);
  return rc;
}

static int cmp_rows(const void *a, const void *b) {
  const bench_row *x = a, *y = b;
  int gx = x->ran && x->gc.pass, gy = y->ran && y->gc.pass;
  if (gx != gy) return gy - gx; /* unchecked or failing rows go last, unranked */
  return (x->st.median > y->st.median) - (x->st.median < y->st.median);
}

static double samples_per_epoch(const workload *w) {
  return w->kind == WL_TOY
             ? w->n_train
             : (w->sampling == WL_SAMPLE_TUTORIAL ? (double)w->batches_per_epoch * w->batch
                                                  : (double)w->n_train);
}

static void print_header(const cli_opts *o, const workload *w, const mlpb_dataset *d, int block) {
  char date[64], res[32];
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
  fmt_time(res, sizeof res, timer_resolution());
  double flops = workload_step_flops(&w->spec, w->batch) * w->batches_per_epoch;
  if (w->kind == WL_TOY) flops = workload_step_flops(&w->spec, w->n_train);
  printf("\n## bench: %s %d-%d-%d", w->name, w->spec.n_in, w->spec.n_hidden, w->spec.n_out);
  if (w->kind == WL_MNIST)
    printf(" on %s (hash %016llx): %d train / %d val, batch %d, %d steps/epoch, %s%s", d->name,
           (unsigned long long)d->hash, w->n_train, w->n_val, w->batch, w->batches_per_epoch,
           w->sampling == WL_SAMPLE_TUTORIAL ? "tutorial sampling" : "shuffled epochs",
           w->zero_grad ? "" : ", no zero_grad");
  else
    printf(" on the tutorial's 3x4 input, full batch, timed in blocks of %d epochs", block);
  printf("\n\n%s; CPU %s; %d epochs, warm-up %d sample(s) excluded per run; seed %llu; FTZ/DAZ "
         "%s; clock resolution %s; %.4g GFLOP of GEMM per epoch\n",
         date, cli_cpu_model(), w->epochs, o->warmup, (unsigned long long)o->seed,
         o->ftz ? "on" : "off", res, flops / 1e9);
#ifdef MLPBENCH_HAVE_BLAS
  char advice[512];
  printf("BLAS: %s; kernel %s; %d threads\n", blas_backend_library(), blas_backend_corename(),
         blas_backend_threads());
  if (blas_backend_kernel_advice(advice, sizeof advice)) printf("warning: %s\n", advice);
#endif
}

static void print_table(const workload *w, bench_row *rows, int nb) {
  qsort(rows, (size_t)nb, sizeof *rows, cmp_rows);
  double fastest = 0.0, naive = 0.0;
  double spe = samples_per_epoch(w);
  double flops = w->kind == WL_TOY ? workload_step_flops(&w->spec, w->n_train)
                                   : workload_step_flops(&w->spec, w->batch) * w->batches_per_epoch;
  if (w->kind == WL_MNIST && w->sampling == WL_SAMPLE_SHUFFLE)
    flops = workload_step_flops(&w->spec, w->n_train);
  for (int i = 0; i < nb; i++) {
    if (!rows[i].ran || !rows[i].gc.pass) continue;
    if (fastest == 0.0) fastest = rows[i].st.median;
    if (strcmp(rows[i].be->name, "naive") == 0) naive = rows[i].st.median;
  }
  printf("\n| backend | median/epoch | IQR | min | max | n | x fastest | x naive | samples/s | "
         "GFLOP/s | val acc | gradcheck |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < nb; i++) {
    bench_row *r = &rows[i];
    if (!r->ran) {
      printf("| %s | failed: %s | | | | | | | | | | |\n", r->be->name, r->err);
      continue;
    }
    char med[32], iqr[32], mn[32], mx[32], acc[16] = "-", gc[48];
    fmt_time(med, sizeof med, r->st.median);
    fmt_time(iqr, sizeof iqr, r->st.q3 - r->st.q1);
    fmt_time(mn, sizeof mn, r->st.min);
    fmt_time(mx, sizeof mx, r->st.max);
    if (w->kind == WL_MNIST) snprintf(acc, sizeof acc, "%.4f", r->val_acc);
    snprintf(gc, sizeof gc, "%s (%.1e)", r->gc.pass ? "pass" : "FAILED, not ranked", r->gc.worst);
    int ranked = r->gc.pass;
    char xf[16] = "-", xn[16] = "-";
    if (ranked) snprintf(xf, sizeof xf, "%.2f", r->st.median / fastest);
    if (ranked && naive > 0) snprintf(xn, sizeof xn, "%.2f", naive / r->st.median);
    printf("| %s | %s | %s | %s | %s | %d | %s | %s |", r->be->name, med, iqr, mn, mx, r->st.n, xf,
           xn);
    printf(" %.4g | %.2f | %s | %s |\n", spe / r->st.median, flops / r->st.median / 1e9, acc, gc);
  }
  if (naive > 0) printf("\nx naive: how many times faster than naive.\n");
}

static int bench_workload(const cli_opts *o, wl_kind kind, const void **bes, int nb) {
  mlpb_dataset d;
  workload w;
  gc_batch gb = {0};
  double ref_loss = 0.0, *ref = NULL;
  bench_row rows[CLI_MAX_BACKENDS];
  float *params = NULL;
  int rc = cli_setup_workload(o, kind, &d, &w);
  if (rc) return rc;
  const int block = bench_block(o, &w);
  const int repeat = o->repeat ? o->repeat : (kind == WL_TOY ? 5 : 1);
  const int per_run = (w.epochs + block - 1) / block;
  memset(rows, 0, sizeof rows);
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
  print_header(o, &w, &d, block);
  rc = EXIT_OK;
  mlp_options bo = cli_backend_options(o);
  for (int i = 0; i < nb; i++) {
    bench_row *r = &rows[i];
    r->be = bes[i];
    r->samples = malloc((size_t)repeat * per_run * sizeof(double));
    if (!r->samples) goto oom;
    double tol = o->tf32 && strcmp(r->be->name, "cuda") == 0 ? GC_TOL_TF32 : GC_TOL_FP32;
    /* correctness before speed: the check runs first and its verdict travels with the row */
    if (gc_check_backend(r->be, &bo, &w, &gb.b, params, ref_loss, ref, tol, &r->gc, r->err,
                         sizeof r->err)) {
      rc = EXIT_RUNTIME;
      continue;
    }
    if (!r->gc.pass && rc == EXIT_OK) rc = EXIT_CHECK;
    int failed = 0;
    for (int k = 0; k < repeat && !failed; k++)
      failed = bench_run(o, &w, r, k == repeat - 1);
    if (failed) {
      fprintf(stderr, "mlpbench bench: %s\n", r->err);
      rc = EXIT_RUNTIME;
      continue;
    }
    r->ran = 1;
    r->st = stats_summarize(r->samples, r->ns);
  }
  print_table(&w, rows, nb);
  goto done;
oom:
  fprintf(stderr, "mlpbench bench: out of memory\n");
done:
  for (int i = 0; i < nb; i++)
    free(rows[i].samples);
  gc_batch_free(&gb);
  free(ref);
  free(params);
  workload_free(&w);
  dataset_free(&d);
  return rc;
}

int cmd_bench(int argc, char **argv) {
  cli_opts o;
  int rc = cli_parse(argc, argv, "bench", bench_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("bench", bench_allowed,
                     "Times each backend per epoch (median, IQR, min, max over the timed "
                     "samples) after checking its gradients.\nGFLOP/s counts the GEMMs only: "
                     "4*n_in*H + 6*H*n_out FLOPs per sample per step.");
    return rc < 0 ? EXIT_OK : rc;
  }
  cli_apply_blas_kernel(&o);
  const void *bes[CLI_MAX_BACKENDS];
  int worst, nb = cli_select_backends(&o, bes, &worst);
  if (worst == EXIT_USAGE) return worst;
  wl_kind kinds[2];
  int nk = cli_workloads(&o, kinds);
  for (int k = 0; k < nk; k++) {
    int r = bench_workload(&o, kinds[k], bes, nb);
    if (r == EXIT_USAGE) return r;
    worst = r > worst ? r : worst;
  }
  return worst;
}
