/* test_history.c: `mlpbench history` on series with known steps and without: detection and
 * false-alarm rates of the step finder on generated noisy series, and the whole command on a
 * folder of results files (series kept apart, bad files skipped, the step named at the right
 * commit, --fail-on-step's exit code). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/cmd/cli.h"
#include "../harness/engine/names.h"
#include "../harness/output/history.h"
#include "../harness/output/results.h"
#include "../harness/output/wl_identity.h"
#include "../workloads/io/outfile.h"
#include "../workloads/rng.h"
#include "t.h"

static char dir[64];

/* A normal deviate from the seeded generator (Box-Muller). */
static double gauss(rng_t *r) {
  double u = (rng_uniform(r) + 1e-12), v = rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Fraction of `trials` series of n log-medians (noise sigma, a step of `effect` at `at`, none
 * when effect == 0) where the finder reports a step within one run of `at` (hits) or any step
 * (alarms, when effect == 0). */
static double rate(int n, double sigma, double effect, int at, int trials, uint64_t seed) {
  rng_t r;
  rng_seed(&r, seed, RNG_STREAM_TEST);
  double *y = malloc((size_t)n * sizeof *y);
  int steps[HISTORY_MAX_STEPS], hits = 0;
  for (int t = 0; t < trials; t++) {
    for (int i = 0; i < n; i++)
      y[i] = sigma * gauss(&r) + (effect != 0 && i >= at ? log(1 + effect) : 0);
    int k = history_detect(y, n, 0.05, steps, HISTORY_MAX_STEPS), hit = 0;
    for (int i = 0; i < k; i++)
      hit |= effect == 0 || abs(steps[i] - at) <= 1;
    hits += hit;
  }
  free(y);
  return (double)hits / trials;
}

/* One identity for compare and history: every field of it tells two workloads apart, and the
 * message names the field and both files. */
static void test_workload_identity(void) {
  report_workload a;
  memset(&a, 0, sizeof a);
  snprintf(a.name, sizeof a.name, "mnist");
  a.spec.n_in = 784;
  a.spec.n_hidden = 500;
  a.spec.n_out = 10;
  a.dataset_hash = 0x1234;
  a.n_train = 7000;
  a.batch = 128;
  snprintf(a.sampling, sizeof a.sampling, "shuffled epochs");
  a.zero_grad = a.has_accuracy = 1;
  wl_identity ia, ib;
  char why[256];
  wl_identity_of(&a, &ia);
  T_CHECK(wl_identity_diff(&ia, "A", &ia, "B", why, sizeof why) == 0,
          "a workload differs from itself");
  for (int f = 0; f < 10; f++) {
    report_workload b = a;
    switch (f) {
    case 0:
      b.spec.n_hidden = 64;
      break;
    case 1:
      b.dataset_hash = 0x99;
      break;
    case 2:
      b.n_train = 6999;
      break;
    case 3:
      b.batch = 64;
      break;
    case 4:
      snprintf(b.sampling, sizeof b.sampling, "tutorial");
      break;
    case 5:
      b.zero_grad = 0;
      break;
    case 6:
      b.full_batch = 1;
      break;
    case 7:
      b.has_accuracy = 0;
      break;
    case 8:
      snprintf(b.name, sizeof b.name, "wide");
      break;
    case 9:
      b.spec.n_in = 100;
      break;
    }
    wl_identity_of(&b, &ib);
    int d = wl_identity_diff(&ia, "A.json", &ib, "B.json", why, sizeof why);
    T_CHECK(d && strstr(why, "in A.json") && strstr(why, "in B.json"), "field %d: '%s'", f, why);
  }
  report_workload b = a;
  b.batch = 64;
  wl_identity_of(&b, &ib);
  wl_identity_diff(&ia, "A.json", &ib, "B.json", why, sizeof why);
  T_CHECK(strcmp(why, "batch 128 in A.json, 64 in B.json") == 0, "'%s'", why);
}

/* Names are checked where they are registered: every table this build ships passes, and each
 * kind of bad name is refused with the offence named, never cut or merged downstream. */
static void test_names(void) {
  char err[256] = "";
  T_CHECK(names_check_registries(err, sizeof err) == 0, "the built-in tables: %s", err);
  const char *good[] = {"naive", "blas", "cuda-emu", "my_blas2", "abcdefghijklmnopqrst"};
  T_CHECK(names_check(good, 5, MLP_NAME_MAX, "backend", err, sizeof err) == 0, "%s", err);
  static const struct {
    const char *names[2];
    const char *why;
  } bad[] = {
      {{"naive", "naive"}, "named twice"},
      {{"blas", "abcdefghijklmnopqrstu"}, "too long"},
      {{"Blas", "x"}, "does not start with a lowercase letter"},
      {{"9blas", "x"}, "does not start"},
      {{"bl as", "x"}, "outside [a-z0-9_-]"},
      {{"blas\x1b[2J", "x"}, "outside [a-z0-9_-]"},
      {{"", "x"}, "empty"},
      {{NULL, "x"}, "empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    T_CHECK(names_check(bad[i].names, 2, MLP_NAME_MAX, "backend", err, sizeof err) == -1 &&
                strstr(err, bad[i].why) && strncmp(err, "backend", 7) == 0,
            "case %zu: '%s'", i, err);
  }
}

static void test_detection_rates(void) {
  const int n = 20, trials = 400;
  /* 3% run-to-run noise: the blas row's spread on this machine across processes */
  double fa = rate(n, 0.03, 0, 0, trials, 1);
  double d5 = rate(n, 0.03, 0.05, 10, trials, 2), d10 = rate(n, 0.03, 0.10, 10, trials, 3);
  double d20 = rate(n, 0.03, 0.20, 10, trials, 4), fa_quiet = rate(n, 0.01, 0, 0, trials, 5);
  double late = rate(n, 0.03, 0.15, 17, trials, 6); /* three slow runs at the end */
  printf("  20 runs, 3%% noise, %d series each: false alarms %.1f%% (1%% noise: %.1f%%); steps "
         "found at the right run: +5%% %.1f%%, +10%% %.1f%%, +20%% %.1f%%, +15%% in the last 3 "
         "runs %.1f%%\n",
         trials, fa * 100, fa_quiet * 100, d5 * 100, d10 * 100, d20 * 100, late * 100);
  T_CHECK(fa <= 0.05 && fa_quiet <= 0.05, "false alarms %.3f / %.3f", fa, fa_quiet);
  T_CHECK(d10 >= 0.90 && d20 >= 0.99, "detection +10%% %.3f, +20%% %.3f", d10, d20);
  T_CHECK(late >= 0.5, "a step in the last three runs found %.3f", late);
}

/* A results file: one mnist row for `backend` with 5 epochs around `median`. */
static void write_run(const char *name, const char *commit, int day, double median, int hidden,
                      const char *backend) {
  report r;
  char path[256], err[512];
  memset(&r, 0, sizeof r);
  report_context_fill(&r.ctx, 0, NULL);
  snprintf(r.ctx.commit, sizeof r.ctx.commit, "%s", commit);
  snprintf(r.ctx.commit_date, sizeof r.ctx.commit_date, "2026-11-%02dT10:00:00+00:00", day);
  snprintf(r.ctx.host, sizeof r.ctx.host, "ci-runner");
  report_workload *w = report_add_workload(&r);
  snprintf(w->name, sizeof w->name, "mnist");
  w->spec = (mlp_spec){.n_in = 784, .n_hidden = hidden, .n_out = 10};
  w->batch = 128;
  w->dataset_hash = 42;
  snprintf(w->sampling, sizeof w->sampling, "shuffled epochs");
  report_row *row = report_add_row(w);
  snprintf(row->backend, sizeof row->backend, "%s", backend);
  row->ran = row->gc_done = row->gc.pass = 1;
  row->n_samples = 5;
  row->samples = malloc(5 * sizeof(double));
  row->cpu_samples = malloc(5 * sizeof(double));
  for (int k = 0; k < 5; k++)
    row->samples[k] = row->cpu_samples[k] = median * (1 + 0.002 * (k - 2));
  row->st = stats_summarize(row->samples, 5);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  json_t *j = results_to_json(&r, RESULTS_NATIVE);
  T_CHECK(results_write(path, j, err, sizeof err) == 0, "%s", err);
  json_decref(j);
  report_free(&r);
}

static void test_history_command(void) {
  /* 12 runs of blas over 12 days, +15% from the 8th (commit c08); files named so that the
   * reading order is not the commit order */
  static const double noise[12] = {1.00, 1.02, 0.99, 1.01, 0.98, 1.00,
                                   1.01, 1.16, 1.14, 1.15, 1.17, 1.15};
  for (int i = 0; i < 12; i++) {
    char name[32], commit[16];
    snprintf(name, sizeof name, "run-%02d.json", 11 - i);
    snprintf(commit, sizeof commit, "c%02d", i + 1);
    write_run(name, commit, i + 1, 0.050 * noise[i], 500, "blas");
  }
  /* another hidden width: a series of its own, never mixed in */
  write_run("wide-1.json", "c12", 12, 0.2, 2048, "blas");
  write_run("wide-2.json", "c12", 12, 0.2, 2048, "blas");
  /* a file in another format and a broken one: skipped, one line each */
  char p[256];
  snprintf(p, sizeof p, "%s/other.json", dir);
  FILE *f = fopen(p, "w");
  fputs("{\"schema\": \"mlpbench-results-0\", \"workloads\": []}", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/broken.json", dir);
  f = fopen(p, "w");
  fputs("{\"schema\": ", f);
  fclose(f);
  history h = {0};
  T_CHECK(history_add_path(&h, dir, stderr) == 0, "read failed");
  history_finish(&h, 0.05);
  T_CHECK(h.files_read == 14 && h.files_skipped == 2, "read %d, skipped %d", h.files_read,
          h.files_skipped);
  T_CHECK(h.n == 2, "%d series (want 2: the two hidden widths apart)", h.n);
  for (int i = 0; i < h.n; i++) {
    const hist_series *s = &h.s[i];
    if (s->id.n_hidden != 500) {
      T_CHECK(s->n == 2 && s->n_steps == 0, "the wide series: %d runs, %d steps", s->n, s->n_steps);
      continue;
    }
    T_CHECK(s->n == 12 && strcmp(s->pts[0].commit, "c01") == 0, "not in commit order");
    T_CHECK(s->n_steps == 1 && strcmp(s->pts[s->steps[0]].commit, "c08") == 0,
            "%d steps, first after it: %s", s->n_steps,
            s->n_steps ? s->pts[s->steps[0]].commit : "-");
    if (s->n_steps) {
      double ch = history_step_change(s, 0);
      T_CHECK(fabs(ch - 0.15) < 0.03, "step of %+.3f", ch);
    }
  }
  history_free(&h);
  /* the CLI: --fail-on-step exits 1 here, 0 without the flag, 2 on nothing readable */
  char *argv1[] = {"history", "--fail-on-step", dir, NULL};
  char *argv2[] = {"history", dir, NULL};
  char *argv3[] = {"history", p, NULL};
  T_CHECK(cmd_history(3, argv1) == 1, "--fail-on-step did not fail");
  T_CHECK(cmd_history(2, argv2) == 0, "history without the flag did not exit 0");
  T_CHECK(cmd_history(2, argv3) == 2, "nothing readable did not exit 2");
  /* a recovery after the step: the latest runs are no longer past a step toward slower */
  for (int i = 12; i < 18; i++) {
    char name[32], commit[16];
    snprintf(name, sizeof name, "run-%02d.json", i);
    snprintf(commit, sizeof commit, "c%02d", i + 1);
    write_run(name, commit, i + 1, 0.050 * (i % 2 ? 1.01 : 0.99), 500, "blas");
  }
  T_CHECK(cmd_history(3, argv1) == 0, "recovered, yet --fail-on-step failed");
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mlpb-test-history-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  T_RUN(test_workload_identity);
  T_RUN(test_names);
  T_RUN(test_detection_rates);
  T_RUN(test_history_command);
  rmtree(dir);
  T_EXIT();
}
