/* runner.c: the bench engine below the command layer: per workload the session, each
 * backend's gradient check, its timed runs (one clock), its GEMM floor and memory, then the
 * peers and the sweep; or all of it in fresh processes. The report it fills is pure data
 * (the montage's images and predictions included): outputs need nothing else. */
#define _GNU_SOURCE
#include "runner.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backends/plugins.h"
#include "../check/gradcheck.h"
#include "../stats/stats.h"
#include "../sys/checked.h"
#include "../sys/core_rtt.h"
#include "../sys/interrupt.h"
#include "bench_procs.h"
#include "disturbed.h"
#include "memstat.h"
#include "peak.h"
#include "peers.h"
#include "session.h"
#include "sweep.h"
#include "thread_fit.h"
#include "timed_region.h"
#include "trainer.h"
#include "wl_describe.h"

/* The montage as data: the first validation images, their labels and the trained model's
 * predictions, so that any picture can be drawn again from the results file alone. */
static int montage_capture(trainer *t, const workload *w, const char *backend, report_montage *m) {
  const int side = w->montage_side,
            n = w->n_val < REPORT_MONTAGE_MAX ? w->n_val : REPORT_MONTAGE_MAX;
  const int no = w->spec.n_out;
  if (n < 1 || side < 1 || side > 64 || (size_t)side * side != (size_t)w->spec.n_in || no > 10)
    return 0;
  float *out = malloc((size_t)n * no * sizeof(float));
  m->pixels = malloc((size_t)n * side * side);
  if (!out || !m->pixels || trainer_predict(t, w->x_val, n, out)) {
    free(out);
    free(m->pixels);
    memset(m, 0, sizeof *m);
    return -1;
  }
  for (size_t i = 0; i < (size_t)n * side * side; i++) {
    float v = w->x_val[i] < 0.0f ? 0.0f : w->x_val[i] > 1.0f ? 1.0f : w->x_val[i];
    m->pixels[i] = (uint8_t)(v * 255.0f + 0.5f);
  }
  for (int k = 0; k < n; k++) {
    m->truth[k] = w->y_val[k];
    m->pred[k] = trainer_argmax(out + (size_t)k * no, no);
  }
  free(out);
  snprintf(m->backend, sizeof m->backend, "%s", backend);
  m->n = n;
  m->side = side;
  return 0;
}

/* One run from fresh weights; timed samples are appended to row->samples. The last run
 * also records the per-epoch curves (evaluation is never timed), and the montage into m
 * when m is given. */
static int bench_run(const run_plan *p, be_handle *h, const workload *w, report_row *row, int last,
                     report_montage *m, load_acc *load) {
  const int block = plan_block(p, w), n_blocks = (w->epochs + block - 1) / block;
  trainer t;
  if (trainer_open_on(&t, h, w, p->seed)) {
    snprintf(row->error, sizeof row->error, "%s", t.err);
    return -1;
  }
  t.progress = !p->quiet;
  t.label = row->backend;
  /* forward_backward runs the floor's own calls, and so does a host backend's train_steps
   * (the CPU step gathers rows and calls the same products); a device's resident kernels
   * (CUDA's fused or tiny ones) may beat the library's products */
  row->floor_bounds = !t.resident || !be_props(h->be)->device;
  if (!row->path[0]) be_path(&t.h, row->path, sizeof row->path);
  /* the threads follow the cores other work leaves (thread_fit.h); each sample says its own */
  const int asked = row->threads; /* the library's threads after create: --threads, or its own */
  int threads = asked;
  for (int b = 0; b < n_blocks; b++) {
    int k = w->epochs - b * block < block ? w->epochs - b * block : block;
    double sec, loss;
    if (b > 0 && asked > 1 && t.last.load.ok) {
      const load_delta *d = &t.last.load;
      /* what the tick counts can tell from zero, as the disturbed rule reads them */
      double res = d->wall > 0 ? 3.0 * sqrt(d->var) / d->wall : INFINITY;
      int fit = thread_fit(asked, d->cpus, d->wall > 0 ? d->other_cpu / d->wall : NAN, res);
      if (fit != threads && be_set_threads(&t.h, fit) == 0) threads = fit;
    }
    if (trainer_epochs(&t, k, &sec, &loss)) goto fail;
    if (b >= p->warmup) {
      const load_delta *d = &t.last.load; /* what else the machine did meanwhile */
      if (t.last_device >= 0.0) row->dev_samples[row->n_dev++] = t.last_device / k;
      row->cpu_samples[row->n_samples] = t.last.cpu_seconds / k;
      row->other_samples[row->n_samples] = d->other_cpu / k;
      row->steal_samples[row->n_samples] = d->steal / k;
      row->ivcsw_samples[row->n_samples] = d->ivcsw / k;
      row->runnable_samples[row->n_samples] = d->runnable;
      row->threads_samples[row->n_samples] = asked > 0 ? threads : NAN;
      load_acc_add(load, &t.last);
      row->samples[row->n_samples++] = sec / k;
    }
    if (!last) continue;
    row->epoch_loss[row->n_epochs] = loss;
    row->epoch_val_acc[row->n_epochs] = NAN;
    if (w->has_accuracy &&
        trainer_accuracy(&t, w->x_val, w->y_val, w->n_val, &row->epoch_val_acc[row->n_epochs]))
      goto fail;
    row->n_epochs++;
  }
  double dev_bytes;
  if (last && be_device_memory(&t.h, &dev_bytes) == 0)
    row->device_bytes = dev_bytes; /* while the trained context is alive */
  if (last && w->has_accuracy) {
    row->val_acc = row->n_epochs ? row->epoch_val_acc[row->n_epochs - 1] : NAN;
    if (w->n_test && trainer_accuracy(&t, w->x_test, w->y_test, w->n_test, &row->test_acc))
      goto fail;
  }
  if (threads != asked)
    be_set_threads(&t.h, asked);                    /* the floors and the next run start as asked */
  if (m && montage_capture(&t, w, row->backend, m)) /* the picture only, not the row */
    fprintf(stderr, "mlpbench bench: %s: no montage (out of memory, or its forward failed)\n",
            row->backend);
  trainer_close(&t);
  return 0;
fail:
  snprintf(row->error, sizeof row->error, "%s", t.err);
  trainer_close(&t);
  return -1;
}

static int alloc_row(report_row *r, int n_samples, int n_epochs) {
  r->samples = calloc((size_t)n_samples, sizeof(double));
  r->cpu_samples = calloc((size_t)n_samples, sizeof(double));
  r->dev_samples = calloc((size_t)n_samples, sizeof(double));
  r->epoch_loss = calloc((size_t)n_epochs, sizeof(double));
  r->epoch_val_acc = calloc((size_t)n_epochs, sizeof(double));
  r->other_samples = calloc((size_t)n_samples, sizeof(double));
  r->steal_samples = calloc((size_t)n_samples, sizeof(double));
  r->ivcsw_samples = calloc((size_t)n_samples, sizeof(double));
  r->runnable_samples = calloc((size_t)n_samples, sizeof(double));
  r->threads_samples = calloc((size_t)n_samples, sizeof(double));
  return r->samples && r->cpu_samples && r->dev_samples && r->epoch_loss && r->epoch_val_acc &&
                 r->other_samples && r->steal_samples && r->ivcsw_samples && r->runnable_samples &&
                 r->threads_samples
             ? 0
             : -1;
}

typedef int (*floor_fn)(be_handle *h, int batch, int steps, double *seconds);

/* One sample of a floor (fn: the backend's gemm_floor or step_floor): `epochs` epochs' steps
 * of the same batch sizes an epoch runs, in the one timed region (wall time after the sync);
 * < 0 on failure. A disturbed floor makes "x floor" wrong, so its load joins the row's. */
static double floor_sample(be_handle *hp, const workload *w, floor_fn fn, int epochs,
                           load_acc *load) {
  const int len = workload_epoch_len(w), full = len / w->batch, rem = len % w->batch;
  double dev_full = -1.0, dev_rem = 0.0;
  timed_region reg;
  timed_sample ts;
  timed_region_begin(&reg, 1);
  if (fn(hp, w->batch, full * epochs, &dev_full) || (rem && fn(hp, rem, epochs, &dev_rem)) ||
      timed_region_end(&reg, hp, &ts))
    return -1.0;
  if (load) load_acc_add(load, &ts);
  return ts.seconds / epochs;
}

/* The floors under an epoch, measured after the timed runs on the backend's one context (its
 * buffers are scribbled on: nothing trains on it afterwards) with the row's threads: the GEMM
 * floor (the products alone) and the step floor (the products and the optimizer's compulsory
 * bytes), their samples alternating so that both see the same machine. */
static void measure_floors(const run_plan *p, be_handle *hp, const workload *w, report_row *r,
                           load_acc *load) {
  enum { FLOOR_SAMPLES = 3 };
  const mlp_backend *be = hp->be;
  const int full = workload_epoch_len(w) / w->batch;
  /* a sample spans min(block, epochs) epochs: a --block beyond --epochs times no more */
  const int per_sample = plan_block(p, w) < w->epochs ? plan_block(p, w) : w->epochs;
  if ((size_t)full * per_sample > INT_MAX) return;
  floor_fn fn[2] = {be_gemm_floor, be_step_floor};
  const int offered[2] = {be_offers(be, BE_GEMM_FLOOR), be_offers(be, BE_STEP_FLOOR)};
  double **samples[2] = {&r->floor_samples, &r->step_floor_samples};
  int *n[2] = {&r->n_floor, &r->n_step_floor}, ok[2];
  for (int k = 0; k < 2; k++)
    ok[k] = offered[k] && (*samples[k] = calloc(FLOOR_SAMPLES, sizeof(double)));
  report_time_now(r->floor_at, sizeof r->floor_at);
  for (int i = 0; i < FLOOR_SAMPLES + 1 && !mlpb_stop_signal; i++)
    for (int k = 0; k < 2; k++) {
      double sec = ok[k] ? floor_sample(hp, w, fn[k], per_sample, i > 0 ? load : NULL) : -1.0;
      if (sec < 0)
        ok[k] = 0;
      else if (i > 0)
        (*samples[k])[(*n[k])++] = sec; /* the first warms up */
    }
}

/* The check, then every repeat, of one backend; the verdict and samples land in r. */
static int bench_backend(const run_plan *p, const mlp_backend *be, const wl_session *s, report *rep,
                         report_workload *rw, report_row *r) {
  const workload *w = &s->w;
  const int per_run = (w->epochs + rw->block - 1) / rw->block;
  snprintf(r->backend, sizeof r->backend, "%s", be->name);
  r->reference = be_props(be)->reference;
  const char *lib_path, *lib_sha;
  _Static_assert(sizeof r->plugin_path >= PATH_MAX, "a plugin's resolved path fits its row");
  if (plugins_source(be, &lib_path, &lib_sha) == 0) { /* which file produced this row */
    snprintf(r->plugin_path, sizeof r->plugin_path, "%s", lib_path);
    snprintf(r->plugin_sha256, sizeof r->plugin_sha256, "%s", lib_sha);
  }
  if (alloc_row(r, rw->repeat * per_run, per_run)) {
    snprintf(r->error, sizeof r->error, "out of memory");
    return EXIT_RUNTIME;
  }
  /* one context for the backend's whole run: the check, every repeat, the floor (set_params
   * starts each afresh); memory counts from before it exists */
  be_handle h;
  double rss0 = memstat_begin(&r->host_peak_exact);
  if (be_open(&h, be, &w->spec, &p->opts, r->error, sizeof r->error)) {
    fprintf(stderr, "mlpbench bench: %s\n", r->error);
    return EXIT_RUNTIME;
  }
  /* correctness before speed: the check runs first and its verdict travels with the row */
  int gc_failed = session_check(s, be, &p->opts, &h, &r->gc, r->error, sizeof r->error);
  /* described once a context has existed, so options applied at create (threads) show */
  be_describe(be, h.ctx, r->details, sizeof r->details);
  mlp_library lib;
  if (be_library(be, &lib) == 0) { /* this row's own library, not the run's */
    snprintf(r->library, sizeof r->library, "%s", lib.library);
    snprintf(r->kernel, sizeof r->kernel, "%s", lib.kernel);
    r->threads = lib.threads;
  }
  if (be_props(be)->device) snprintf(rep->ctx.gpu, sizeof rep->ctx.gpu, "%s", r->details);
  if (gc_failed) {
    fprintf(stderr, "mlpbench bench: %s\n", r->error);
    be_close(&h);
    return EXIT_RUNTIME;
  }
  r->gc_done = 1;
  if (!r->gc.pass) {
    char why[400];
    gc_failure_text(&r->gc, why, sizeof why);
    fprintf(stderr, "mlpbench bench: %s: gradient check FAILED %s; its times are not ranked\n",
            be->name, why);
  }
  /* the first backend whose check passed predicts the montage */
  report_montage *m = w->montage_side && r->gc.pass && rw->montage.n == 0 ? &rw->montage : NULL;
  load_acc load = {0};
  r->core_rtt_start = core_rtt_ns(CORE_RTT_BUDGET_S);
  report_time_now(r->timed_at, sizeof r->timed_at);
  for (int k = 0; k < rw->repeat; k++) {
    int last = k == rw->repeat - 1;
    if (bench_run(p, &h, w, r, last, last ? m : NULL, &load)) {
      fprintf(stderr, "mlpbench bench: %s\n", r->error);
      report_row_summarize(r, rw); /* what it timed before it failed, as read back */
      be_close(&h);
      return EXIT_RUNTIME;
    }
  }
  r->ran = 1;
  double peak = memstat_peak();
  r->host_peak_growth = rss0 >= 0 && peak >= rss0 ? peak - rss0 : NAN;
  measure_floors(p, &h, w, r, &load);
  r->core_rtt_end = core_rtt_ns(CORE_RTT_BUDGET_S);
  be_close(&h);
  r->n_load = load.ok ? r->n_samples : 0; /* per-sample figures for every sample, or none */
  report_row_summarize(r, rw);
  peak_fraction_set(be, &rep->ctx, r);
  const char *fenv = plugins_fenv_changed(be); /* restored after each call; the row says so */
  if (fenv) snprintf(r->plugin_fenv_changed, sizeof r->plugin_fenv_changed, "%s", fenv);
  disturbed_summary(r, &load);
  disturbed_judge(r);
  return r->gc.pass ? EXIT_OK : EXIT_CHECK;
}

/* A peer's row from the machine's figures around its run. */
static void peer_judge(report_row *r, const load_snap *a, const load_snap *b) {
  load_delta d;
  load_delta_of(a, b, &d);
  timed_sample s = {.seconds = d.wall, .load = d};
  load_acc acc = {0};
  load_acc_add(&acc, &s);
  disturbed_summary(r, &acc);
  r->cpu_per_wall = NAN; /* the peer's own CPU time is not this process's */
  disturbed_judge(r);
}

static int bench_workload(const run_plan *p, const wl_entry *e, report *rep) {
  wl_session s;
  int rc = session_open(&s, e, p, 1, "bench");
  if (rc) return rc;
  const workload *w = &s.w;
  report_workload *rw = report_add_workload(rep);
  if (!rw) {
    fprintf(stderr, "mlpbench bench: %s: out of memory\n", s.w.name);
    session_close(&s);
    return EXIT_RUNTIME;
  }
  wl_describe(p, w, rw);
  const int per_run = (w->epochs + rw->block - 1) / rw->block;
  size_t n_samples;
  if (checked_mul((size_t)rw->repeat, (size_t)per_run, &n_samples) ||
      n_samples > REPORT_MAX_SAMPLES) {
    fprintf(stderr,
            "mlpbench bench: %s: --epochs %d in blocks of %d, %d runs, makes %zu timing samples "
            "per backend, over the limit of %d (raise --block, or lower --epochs or --repeat)\n",
            w->name, w->epochs, rw->block, rw->repeat, (size_t)rw->repeat * (size_t)per_run,
            REPORT_MAX_SAMPLES);
    session_close(&s);
    return EXIT_USAGE;
  }
  if (p->warmup >= per_run) {
    fprintf(stderr,
            "mlpbench bench: --warmup %d leaves no timed samples (%s has %d per run; raise "
            "--epochs or lower --warmup)\n",
            p->warmup, w->name, per_run);
    session_close(&s);
    return EXIT_USAGE;
  }
  rc = EXIT_OK;
  for (int i = 0; i < p->n_backends && !mlpb_stop_signal; i++) {
    report_row *r = report_add_row(rw);
    if (!r) {
      fprintf(stderr, "mlpbench bench: out of memory\n");
      rc = EXIT_RUNTIME;
      break;
    }
    int br = bench_backend(p, p->backends[i], &s, rep, rw, r);
    rc = br > rc ? br : rc;
  }
  for (int i = 0; i < p->n_peers && !mlpb_stop_signal; i++) {
    /* a peer times itself in its own process: its row is judged from the machine's side,
     * over its whole run (the peer's own CPU time, a child's, never counts as other work) */
    load_snap l0, l1;
    int before = rw->n_rows;
    char at[32];
    report_time_now(at, sizeof at);
    load_snap_take(&l0);
    int pr = peers_bench(p->peers[i], p, &s, rw);
    load_snap_take(&l1);
    if (rw->n_rows > before) {
      snprintf(rw->rows[rw->n_rows - 1].timed_at, sizeof at, "%s", at);
      peer_judge(&rw->rows[rw->n_rows - 1], &l0, &l1);
    }
    /* a peer counts as a backend does: failed 3, a failed gradient check 1 */
    pr = pr < 0 ? EXIT_RUNTIME : pr == 0 && !rw->rows[rw->n_rows - 1].gc.pass ? EXIT_CHECK : 0;
    rc = pr > rc ? pr : rc;
  }
  if (p->sweep && !mlpb_stop_signal)
    sweep_run(p->backends, p->n_backends, &p->opts, p->quiet, w, rw);
  report_sort_rows(rw);
  session_close(&s);
  return rc;
}

/* The run's context: this machine and command (ctx), with the plan's settings. */
static void run_context(report_context *out, const report_context *ctx, const run_plan *p) {
  *out = *ctx;
  out->seed = p->seed;
  out->ftz = p->opts.ftz;
  out->tf32 = p->opts.tf32;
}

int runner_bench(const run_plan *p, const report_context *ctx, report *rep, runner_done done,
                 char *broken, size_t blen) {
  int worst = EXIT_OK;
  memset(rep, 0, sizeof *rep);
  run_context(&rep->ctx, ctx, p);
  broken[0] = '\0';
  /* once, before anything is timed; --processes children reuse this one (plan.h) */
  peak_measure(p, &rep->ctx);
  if (p->processes > 1) { /* every run in fresh processes; this one merges */
    int pr = procs_run(p, rep, broken, blen);
    if (pr != EXIT_OK && pr != EXIT_CHECK) {
      if (!broken[0]) snprintf(broken, blen, "a process failed");
      return pr;
    }
    report_context seen = rep->ctx; /* what the children saw: their device, this peak */
    run_context(&rep->ctx, ctx, p);
    snprintf(rep->ctx.gpu, sizeof rep->ctx.gpu, "%s", seen.gpu);
    rep->ctx.peak_gflops = seen.peak_gflops;
    snprintf(rep->ctx.peak_by, sizeof rep->ctx.peak_by, "%s", seen.peak_by);
    snprintf(rep->ctx.peak_at, sizeof rep->ctx.peak_at, "%s", seen.peak_at);
    snprintf(rep->ctx.peak_disturbed, sizeof rep->ctx.peak_disturbed, "%s", seen.peak_disturbed);
    report_context_libraries(&rep->ctx, rep); /* the children's rows: their threads */
    for (int k = 0; k < rep->n_wl && done; k++)
      done(rep, &rep->wl[k]);
    return pr;
  }
  for (int k = 0; k < p->n_workloads && !mlpb_stop_signal; k++) {
    int before = rep->n_wl, r = bench_workload(p, p->workloads[k], rep);
    if (r == EXIT_USAGE) return r;
    worst = r > worst ? r : worst;
    if (rep->n_wl == before) { /* its setup failed (out of memory, data): a run without it is
                                  not the run asked for, so no results file is written */
      snprintf(broken, blen, "workload %s could not be set up", p->workloads[k]->name);
      return worst > EXIT_RUNTIME ? worst : EXIT_RUNTIME;
    }
    report_context_libraries(&rep->ctx, rep); /* what the rows' backends ran on */
    if (done) done(rep, &rep->wl[rep->n_wl - 1]);
  }
  return worst;
}
