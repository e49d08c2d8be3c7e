/* test_history.c: `mlpbench history` on series with known steps and without: detection and
 * false-alarm rates of the step finder on generated noisy series, and the whole command on a
 * folder of results files (series kept apart, bad files skipped, the step named at the right
 * commit, --fail-on-step's exit code). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/backends/names.h"
#include "../harness/cmd/cli.h"
#include "../harness/output/history.h"
#include "../harness/output/history_plot.h"
#include "../harness/output/plots.h"
#include "../harness/output/results.h"
#include "../harness/output/run_identity.h"
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

/* One machine key for compare and history: CPU, cores, BLAS kernel and threads tell two
 * machines apart, a GPU only where both files name one, the host name never; the message
 * names the field and both files. */
static void test_machine_identity(void) {
  report r;
  memset(&r, 0, sizeof r);
  snprintf(r.ctx.host, sizeof r.ctx.host, "runner-1");
  snprintf(r.ctx.cpu, sizeof r.ctx.cpu, "Xeon 8480");
  r.ctx.cores = 8;
  snprintf(r.ctx.blas_kernel, sizeof r.ctx.blas_kernel, "SapphireRapids");
  r.ctx.blas_threads = 8;
  report_row row;
  memset(&row, 0, sizeof row);
  row.library_known = 1;
  snprintf(row.kernel, sizeof row.kernel, "SapphireRapids");
  row.threads = 8;
  machine_id ma, mb;
  char why[512];
  machine_id_of(&r, &row, &ma);
  static const char *const want[] = {
      "CPU 'Xeon 8480' in A.json, 'EPYC' in B.json", "cores 8 in A.json, 4 in B.json",
      "BLAS kernel 'SapphireRapids' in A.json, 'Haswell' in B.json",
      "BLAS threads 8 in A.json, 1 in B.json", "GPU 'H100' in A.json, 'H200' in B.json"};
  for (int f = 0; f < 5; f++) {
    report rb = r;
    report_row rowb = row;
    machine_id mg = ma;
    switch (f) {
    case 0:
      snprintf(rb.ctx.cpu, sizeof rb.ctx.cpu, "EPYC");
      break;
    case 1:
      rb.ctx.cores = 4;
      break;
    case 2:
      snprintf(rowb.kernel, sizeof rowb.kernel, "Haswell");
      break;
    case 3:
      rowb.threads = 1;
      break;
    case 4:
      snprintf(rb.ctx.gpu, sizeof rb.ctx.gpu, "H200");
      snprintf(mg.gpu, sizeof mg.gpu, "H100");
      break;
    }
    machine_id_of(&rb, &rowb, &mb);
    int d = machine_id_diff(&mg, "A.json", &mb, "B.json", why, sizeof why);
    T_CHECK(d && strcmp(why, want[f]) == 0, "field %d: '%s'", f, d ? why : "(same)");
  }
  report rb = r;
  snprintf(rb.ctx.host, sizeof rb.ctx.host, "runner-2");
  snprintf(rb.ctx.gpu, sizeof rb.ctx.gpu, "H200"); /* a device backend ran there too */
  machine_id_of(&rb, &row, &mb);
  T_CHECK(!machine_id_diff(&ma, "A", &mb, "B", why, sizeof why), "host or GPU told apart: %s", why);
  /* an older file records the kernel per file only: the files' kernels are compared */
  report_row old = row;
  old.library_known = 0;
  machine_id_of(&r, &old, &mb);
  T_CHECK(!machine_id_diff(&ma, "A", &mb, "B", why, sizeof why), "format change: %s", why);
  snprintf(rb.ctx.blas_kernel, sizeof rb.ctx.blas_kernel, "Haswell");
  machine_id_of(&rb, &old, &mb);
  T_CHECK(machine_id_diff(&ma, "A", &mb, "B", why, sizeof why) && strstr(why, "'Haswell'"),
          "the file's kernel not compared");
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

/* One run as a results file: its machine and commit, and a mnist row per backend (blas,
 * naive) whose 5 epochs lie around the given median (0: no such row). */
typedef struct {
  const char *host, *cpu, *commit;
  int day, hidden;
  double blas, naive;
  double jitter; /* the epochs' spread around the median (0.002 unless given) */
} run_desc;

static void write_desc(const char *name, const run_desc *d) {
  static int serial; /* every file its own run date, as real runs have */
  report r;
  char path[512], err[512];
  memset(&r, 0, sizeof r);
  report_context_fill(&r.ctx, 0, NULL);
  snprintf(r.ctx.commit, sizeof r.ctx.commit, "%s", d->commit);
  /* day 1 is 2026-01-01, and so on in 28-day months: any number of days in order */
  snprintf(r.ctx.commit_date, sizeof r.ctx.commit_date, "2026-%02d-%02dT10:00:00+00:00",
           1 + (d->day - 1) / 28 % 12, 1 + (d->day - 1) % 28);
  snprintf(r.ctx.date, sizeof r.ctx.date, "2026-12-01T%02d:%02d:%02dZ", serial / 3600 % 24,
           serial / 60 % 60, serial % 60);
  serial++;
  snprintf(r.ctx.host, sizeof r.ctx.host, "%s", d->host ? d->host : "ci-runner");
  if (d->cpu) snprintf(r.ctx.cpu, sizeof r.ctx.cpu, "%s", d->cpu);
  report_workload *w = report_add_workload(&r);
  snprintf(w->name, sizeof w->name, "mnist");
  w->spec = (mlp_spec){.n_in = 784, .n_hidden = d->hidden ? d->hidden : 500, .n_out = 10};
  w->batch = 128;
  w->dataset_hash = 42;
  snprintf(w->sampling, sizeof w->sampling, "shuffled epochs");
  const char *names[2] = {"blas", "naive"};
  const double med[2] = {d->blas, d->naive};
  const double jit = d->jitter ? d->jitter : 0.002;
  for (int b = 0; b < 2; b++) {
    if (!(med[b] > 0)) continue;
    report_row *row = report_add_row(w);
    snprintf(row->backend, sizeof row->backend, "%s", names[b]);
    row->ran = row->gc_done = row->gc.pass = 1;
    row->n_samples = 5;
    row->samples = malloc(5 * sizeof(double));
    row->cpu_samples = malloc(5 * sizeof(double));
    for (int k = 0; k < 5; k++)
      row->samples[k] = row->cpu_samples[k] = med[b] * (1 + (jit < 0 ? 0 : jit) * (k - 2));
    row->st = stats_summarize(row->samples, 5);
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  json_t *j = results_to_json(&r, RESULTS_NATIVE);
  T_CHECK(results_write(path, j, err, sizeof err) == 0, "%s", err);
  json_decref(j);
  report_free(&r);
}

/* A results file: one mnist row for `backend` with 5 epochs around `median`. */
static void write_run(const char *name, const char *commit, int day, double median, int hidden,
                      const char *backend) {
  run_desc d = {.commit = commit, .day = day, .hidden = hidden};
  *(strcmp(backend, "naive") == 0 ? &d.naive : &d.blas) = median;
  write_desc(name, &d);
}

/* Runs fn(argv) with stdout and stderr into dir/out.txt; returns its exit code. */
static int run_captured(int (*fn)(int, char **), char **argv) {
  char out[512];
  int argc = 0;
  while (argv[argc])
    argc++;
  snprintf(out, sizeof out, "%s/out.txt", dir);
  fflush(stdout);
  fflush(stderr);
  int so = dup(1), se = dup(2), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 1);
  dup2(fd, 2);
  close(fd);
  int rc = fn(argc, argv);
  fflush(stdout);
  fflush(stderr);
  dup2(so, 1);
  dup2(se, 2);
  close(so);
  close(se);
  return rc;
}

/* What the last run_captured printed (static, NUL-terminated). */
static const char *captured(void) {
  static char buf[1 << 16];
  char out[512];
  snprintf(out, sizeof out, "%s/out.txt", dir);
  FILE *f = fopen(out, "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
  return buf;
}

/* A fresh, empty sub-folder of dir for one test's files; returns its path (static). */
static const char *subdir(const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  rmtree(p);
  mkdir(p, 0755);
  return p;
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

/* n runs of blas without a step (2% noise) but for one odd last run (last: its factor), the
 * files of folder `sub`; returns its path. One odd run is never a step; counted twice it
 * would be one (two runs a side, each level's median past 5%, the U test's p 0.03). */
static const char *quiet_series(const char *sub, int n, double last) {
  static const double noise[12] = {1.00, 1.02, 0.99, 1.01, 0.98, 1.00,
                                   1.01, 0.99, 1.02, 0.98, 1.01, 1.00};
  const char *p = subdir(sub);
  for (int i = 0; i < n; i++) {
    char name[64], commit[16];
    snprintf(name, sizeof name, "%s/run-%02d.json", sub, i);
    snprintf(commit, sizeof commit, "c%02d", i + 1);
    double m = 0.05 * noise[i % 12] * (i == n - 1 ? last : 1.0);
    write_desc(name, &(run_desc){.commit = commit, .day = i + 1, .blas = m});
  }
  return p;
}

/* The same run counted twice (a folder named twice, a copy of a file) counts once: no
 * doubled series, no false step, and the output says how many were dropped. */
static void test_history_duplicates(void) {
  char p[600], cmd[1300];
  const char *d = quiet_series("dups", 12, 1.08);
  snprintf(p, sizeof p, "%s", d);
  snprintf(cmd, sizeof cmd, "cp %s/run-03.json %s/copy-of-03.json", p, p);
  T_CHECK(system(cmd) == 0, "%s", cmd);
  history h = {0};
  T_CHECK(history_add_path(&h, p, stderr) == 0 && history_add_path(&h, p, stderr) == 0, "read");
  history_finish(&h, 0.05);
  T_CHECK(h.n == 1 && h.s[0].n == 12, "%d series, %d runs (want 1 of 12)", h.n, h.n ? h.s[0].n : 0);
  T_CHECK(h.duplicates == 14, "%d duplicates dropped (want 14: 12 read twice, the copy twice)",
          h.duplicates);
  T_CHECK(h.n == 1 && h.s[0].n_steps == 0, "a false step from duplicates");
  history_free(&h);
  char *argv[] = {"history", "--fail-on-step", p, p, NULL};
  T_CHECK(run_captured(cmd_history, argv) == 0, "--fail-on-step failed on duplicates:\n%s",
          captured());
  T_CHECK(strstr(captured(), "14 duplicate runs dropped"), "no count of duplicates:\n%s",
          captured());
}

/* compare a,a,a b,b,b is one run against one, not "3 / 3 runs" */
static void test_compare_duplicates(void) {
  char a[600], b[600], la[2000], lb[2000];
  subdir("cdups");
  write_desc("cdups/a.json", &(run_desc){.commit = "a", .day = 1, .blas = 0.05});
  write_desc("cdups/b.json", &(run_desc){.commit = "b", .day = 2, .blas = 0.065});
  snprintf(a, sizeof a, "%s/cdups/a.json", dir);
  snprintf(b, sizeof b, "%s/cdups/b.json", dir);
  snprintf(la, sizeof la, "%s,%s,%s", a, a, a);
  snprintf(lb, sizeof lb, "%s,%s,%s", b, b, b);
  char *argv[] = {"compare", la, lb, NULL};
  int rc = run_captured(cmd_compare, argv);
  T_CHECK(rc <= 1, "compare exit %d:\n%s", rc, captured());
  T_CHECK(!strstr(captured(), "3 / 3 runs"), "duplicates counted as runs:\n%s", captured());
  T_CHECK(strstr(captured(), "2 duplicate run(s) dropped from BASE, 2 from NEW"),
          "no count of duplicates:\n%s", captured());
}

/* CI runners get a new host name every job: one series across them, its step found; a
 * different CPU is another machine, whatever its host name. */
static void test_history_machine(void) {
  const char *p = subdir("fleet");
  char sub[600];
  snprintf(sub, sizeof sub, "%s", p);
  for (int i = 0; i < 12; i++) {
    char name[64], host[32], commit[16];
    snprintf(name, sizeof name, "fleet/run-%02d.json", i);
    snprintf(host, sizeof host, "runner-%d", 1000 + 7 * i);
    snprintf(commit, sizeof commit, "c%02d", i + 1);
    double m = 0.05 * (i >= 6 ? 1.30 : 1.0) * (i % 2 ? 1.01 : 0.99);
    write_desc(
        name,
        &(run_desc){.host = host, .cpu = "Xeon 8480", .commit = commit, .day = i + 1, .blas = m});
  }
  /* a faster machine, sometimes given a host name seen above */
  write_desc(
      "fleet/other-1.json",
      &(run_desc){
          .host = "runner-1000", .cpu = "EPYC 9654", .commit = "c13", .day = 13, .blas = 0.03});
  history h = {0};
  T_CHECK(history_add_path(&h, sub, stderr) == 0, "read");
  history_finish(&h, 0.05);
  T_CHECK(h.n == 2, "%d series (want 2: one per CPU, host names aside)", h.n);
  for (int i = 0; i < h.n; i++)
    if (strcmp(h.s[i].machine.cpu, "Xeon 8480") == 0)
      T_CHECK(h.s[i].n == 12 && h.s[i].n_steps == 1, "Xeon: %d runs, %d steps", h.s[i].n,
              h.s[i].n_steps);
  history_free(&h);
  char *argv[] = {"history", "--fail-on-step", sub, NULL};
  T_CHECK(run_captured(cmd_history, argv) == 1, "a +30%% step across runners not failed:\n%s",
          captured());
}

/* compare refuses rows from different machines like rows of different workloads */
static void test_compare_machine(void) {
  subdir("cmach");
  write_desc("cmach/x1.json",
             &(run_desc){.host = "h1", .cpu = "Xeon", .commit = "a", .blas = 0.05});
  write_desc("cmach/x2.json",
             &(run_desc){.host = "h2", .cpu = "Xeon", .commit = "b", .blas = 0.05});
  write_desc("cmach/e1.json",
             &(run_desc){.host = "h1", .cpu = "EPYC", .commit = "b", .blas = 0.05});
  char x1[600], x2[600], e1[600], both[1300];
  snprintf(x1, sizeof x1, "%s/cmach/x1.json", dir);
  snprintf(x2, sizeof x2, "%s/cmach/x2.json", dir);
  snprintf(e1, sizeof e1, "%s/cmach/e1.json", dir);
  snprintf(both, sizeof both, "%s,%s", x1, e1);
  char *same[] = {"compare", x1, x2, NULL};
  T_CHECK(run_captured(cmd_compare, same) == 0, "two hosts, one machine:\n%s", captured());
  char *other[] = {"compare", x1, e1, NULL};
  T_CHECK(run_captured(cmd_compare, other) == 2, "another CPU compared:\n%s", captured());
  T_CHECK(strstr(captured(), "CPU 'Xeon' in") && strstr(captured(), "'EPYC' in"),
          "the difference not named:\n%s", captured());
  char *mixed[] = {"compare", both, x2, NULL};
  T_CHECK(run_captured(cmd_compare, mixed) == 2, "a side of two machines:\n%s", captured());
  char *forced[] = {"compare", "--force", x1, e1, NULL};
  T_CHECK(run_captured(cmd_compare, forced) <= 1, "--force refused:\n%s", captured());
}

/* --paired pairs file i with file i: a row missing from one file drops that pair, and a
 * +0.1% change under strong drift between rounds stays +0.1% */
static void test_compare_paired_missing(void) {
  subdir("pair");
  char la[4000] = "", lb[4000] = "";
  for (int i = 0; i < 8; i++) {
    char na[64], nb[64];
    double drift = 1.0 + 0.2 * i; /* each round slower than the last: the machine's phase */
    snprintf(na, sizeof na, "pair/a%d.json", i);
    snprintf(nb, sizeof nb, "pair/b%d.json", i);
    write_desc(
        na, &(run_desc){
                .commit = "a", .day = 1, .naive = 0.1 * drift, .blas = i == 6 ? 0 : 0.05 * drift});
    write_desc(nb, &(run_desc){.commit = "b",
                               .day = 2,
                               .naive = 0.1 * drift * 1.001,
                               .blas = i == 1 ? 0 : 0.05 * drift * 1.001});
    size_t ka = strlen(la), kb = strlen(lb);
    snprintf(la + ka, sizeof la - ka, "%s%s/%s", i ? "," : "", dir, na);
    snprintf(lb + kb, sizeof lb - kb, "%s%s/%s", i ? "," : "", dir, nb);
  }
  char *argv[] = {"compare", "--paired", la, lb, NULL};
  int rc = run_captured(cmd_compare, argv);
  T_CHECK(rc == 0 && !strstr(captured(), "REGRESSION"), "exit %d:\n%s", rc, captured());
  char blas[256] = "";
  const char *at = strstr(captured(), "| mnist | blas |");
  if (at) snprintf(blas, sizeof blas, "%.*s", (int)strcspn(at, "\n"), at);
  T_CHECK(strstr(blas, "+0.1%") && strstr(blas, "| 6 pairs |"),
          "the blas row not compared on its 6 pairs: '%s'\n%s", blas, captured());
  T_CHECK(strstr(captured(), "2 pair(s) dropped"), "the dropped pairs not named:\n%s", captured());
  /* unequal lists cannot be paired file by file: refused, not shifted */
  *strrchr(lb, ',') = '\0';
  T_CHECK(run_captured(cmd_compare, argv) == 2 && strstr(captured(), "have 8 and 7"),
          "8 files against 7 paired:\n%s", captured());
  /* the first 5 rounds: blas lacks round 1 in NEW, and 4 pairs (or 5) cannot reach
   * p < 0.05 at any effect: inconclusive, exit 2, never "same" */
  for (int k = 0; k < 3; k++) {
    *strrchr(la, ',') = '\0';
    if (k < 2) *strrchr(lb, ',') = '\0';
  }
  T_CHECK(run_captured(cmd_compare, argv) == 2 &&
              strstr(captured(), "4 pairs cannot reach p < 0.05; need at least 6") &&
              strstr(captured(), "1 pair(s) dropped"),
          "4 rounds paired:\n%s", captured());
}

/* Step detection is near-linear: 20,000 runs with a step and a level later undone planted
 * are segmented (the time is in the report, not asserted); each planted change is found. */
static void test_step_speed(void) {
  const int n = 20000;
  rng_t r;
  rng_seed(&r, 7, RNG_STREAM_TEST);
  double *y = malloc((size_t)n * sizeof *y);
  for (int i = 0; i < n; i++)
    y[i] =
        0.02 * gauss(&r) + (i >= 12000 ? log(1.15) : 0) + (i >= 5000 && i < 5200 ? log(1.25) : 0);
  int steps[HISTORY_MAX_STEPS];
  int k = history_detect(y, n, 0.05, steps, HISTORY_MAX_STEPS);
  int found[3] = {0, 0, 0};
  const int planted[3] = {5000, 5200, 12000};
  for (int i = 0; i < k; i++)
    for (int p = 0; p < 3; p++)
      found[p] |= abs(steps[i] - planted[p]) <= 2;
  T_CHECK(found[0] && found[1] && found[2], "%d steps, planted found: %d %d %d", k, found[0],
          found[1], found[2]);
  T_CHECK(k == 3, "%d steps (want the 3 planted)", k);
  free(y);
  /* a level later undone in a short series: found, both edges */
  double b[30];
  for (int i = 0; i < 30; i++)
    b[i] = 0.01 * (i % 3 - 1) + (i >= 10 && i < 20 ? log(1.15) : 0);
  k = history_detect(b, 30, 0.05, steps, HISTORY_MAX_STEPS);
  T_CHECK(k == 2 && steps[0] == 10 && steps[1] == 20, "%d steps at %d %d", k, k ? steps[0] : -1,
          k > 1 ? steps[1] : -1);
}

/* --since N: only a step among a series' last N runs fails --fail-on-step */
static void test_history_since(void) {
  const char *p = subdir("since");
  char sub[600];
  snprintf(sub, sizeof sub, "%s", p);
  for (int i = 0; i < 60; i++) {
    char name[64], commit[16];
    snprintf(name, sizeof name, "since/run-%02d.json", i);
    snprintf(commit, sizeof commit, "c%02d", i + 1);
    double m = 0.05 * (i >= 5 ? 1.2 : 1.0) * (1 + 0.01 * (i % 3 - 1));
    write_desc(name, &(run_desc){.commit = commit, .day = i + 1, .blas = m});
  }
  char *all[] = {"history", "--fail-on-step", sub, NULL};
  T_CHECK(run_captured(cmd_history, all) == 1, "the old step not seen:\n%s", captured());
  char *recent[] = {"history", "--fail-on-step", "--since", "20", sub, NULL};
  T_CHECK(run_captured(cmd_history, recent) == 0, "a step 55 runs ago failed --since 20:\n%s",
          captured());
  char *wide[] = {"history", "--fail-on-step", "--since", "56", sub, NULL};
  T_CHECK(run_captured(cmd_history, wide) == 1, "the step within --since 56 passed:\n%s",
          captured());
  const char *bad[] = {"0", "-3", "x", "12x", "99999999999"};
  for (int i = 0; i < 5; i++) {
    char *argv[] = {"history", "--since", (char *)bad[i], sub, NULL};
    T_CHECK(run_captured(cmd_history, argv) == 2, "--since %s accepted", bad[i]);
  }
}

/* the files in folder p, counted; *unsafe set when a name holds anything but [A-Za-z0-9._-] */
static int count_files(const char *p, int *unsafe) {
  DIR *d = opendir(p);
  int n = 0;
  struct dirent *e;
  *unsafe = 0;
  while (d && (e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    n++;
    for (const char *c = e->d_name; *c; c++)
      *unsafe |= !(isalnum((unsigned char)*c) || *c == '.' || *c == '_' || *c == '-');
    *unsafe |= e->d_name[0] == '.';
  }
  if (d) closedir(d);
  return n;
}

/* The trend plot draws one run, and runs all alike (an empty y range); two machines with
 * one host name get a plot each; hostile names stay file names. */
static void test_history_plots(void) {
  if (!plots_have_gnuplot()) {
    printf("  skipped: gnuplot not installed (apt-get install gnuplot-nox)\n");
    return;
  }
  char in[600], out[600];
  snprintf(in, sizeof in, "%s", subdir("plots-in"));
  snprintf(out, sizeof out, "%s", subdir("plots-out"));
  write_desc("plots-in/one.json",
             &(run_desc){
                 .host = "ci", .cpu = "Xeon", .commit = "a", .day = 1, .blas = 0.05, .jitter = -1});
  for (int i = 0; i < 3; i++) {
    char name[64];
    snprintf(name, sizeof name, "plots-in/same-%d.json", i);
    write_desc(
        name,
        &(run_desc){
            .host = "ci", .cpu = "EPYC", .commit = "b", .day = 2 + i, .naive = 0.2, .jitter = -1});
  }
  write_desc("plots-in/hostile.json", &(run_desc){.host = "../../x\x1b]0;PWNED\x07/..",
                                                  .cpu = "a/b\n$(id)",
                                                  .commit = "c",
                                                  .day = 5,
                                                  .blas = 0.04});
  char *argv[] = {"history", "--plots", out, in, NULL};
  int rc = run_captured(cmd_history, argv);
  T_CHECK(rc == 0, "exit %d:\n%s", rc, captured());
  int unsafe, n = count_files(out, &unsafe);
  T_CHECK(n == 3, "%d plots (want 3: two machines named ci, and the hostile one)", n);
  T_CHECK(!unsafe, "a plot file name outside [A-Za-z0-9._-]");
  int in_unsafe;
  T_CHECK(count_files(in, &in_unsafe) == 5, "a plot written outside its folder");
}

/* Legends tell apart what the plot holds: two blas series (2 threads on all data, 1 thread on
 * part of it) are labelled by what differs, naive beside them by its name alone. */
static void test_history_labels(void) {
  hist_series s[3];
  memset(s, 0, sizeof s);
  for (int i = 0; i < 3; i++) {
    snprintf(s[i].workload, sizeof s[i].workload, "mnist");
    snprintf(s[i].machine.cpu, sizeof s[i].machine.cpu, "EPYC");
    s[i].machine.cores = 2;
    s[i].id.batch = 128;
    s[i].id.n_train = i == 1 ? 2100 : 7000;
    s[i].machine.threads = i == 1 ? 1 : 2;
    snprintf(s[i].backend, sizeof s[i].backend, "%s", i == 2 ? "naive" : "blas");
  }
  history h = {.s = s, .n = 3};
  char a[256], b[256], c[256];
  history_series_label(&h, &s[0], a, sizeof a);
  history_series_label(&h, &s[1], b, sizeof b);
  history_series_label(&h, &s[2], c, sizeof c);
  T_CHECK(strcmp(a, "blas, 2 threads, 7000 train") == 0, "'%s'", a);
  T_CHECK(strcmp(b, "blas, 1 thread, 2100 train") == 0, "'%s'", b);
  T_CHECK(strcmp(c, "naive") == 0, "'%s'", c);
}

/* strings from a results file reach the terminal through term_text: no escape, no forged
 * line, whichever field carries them */
static void test_terminal_text(void) {
  char p[600];
  snprintf(p, sizeof p, "%s", subdir("term"));
  for (int i = 0; i < 6; i++) {
    char name[64], commit[32];
    snprintf(name, sizeof name, "term/r%d.json", i);
    snprintf(commit, sizeof commit, "c\x1b[2J%d\n| fake | row |", i);
    write_desc(name, &(run_desc){.host = "x\x1b]0;PWNED\x07\n| fake |",
                                 .cpu = "cpu\r\x9b"
                                        "2J",
                                 .commit = commit,
                                 .day = i + 1,
                                 .blas = i < 3 ? 0.05 : 0.08});
  }
  char f0[700], f1[700];
  snprintf(f0, sizeof f0, "%s/r0.json", p);
  snprintf(f1, sizeof f1, "%s/r1.json", p);
  char *hist[] = {"history", p, NULL};
  char *cmp[] = {"compare", f0, f1, NULL};
  int (*fns[2])(int, char **) = {cmd_history, cmd_compare};
  char **argvs[2] = {hist, cmp};
  for (int k = 0; k < 2; k++) {
    run_captured(fns[k], argvs[k]);
    const char *out = captured();
    int bad = 0;
    for (const unsigned char *c = (const unsigned char *)out; *c; c++)
      bad |= (*c < 0x20 && *c != '\n') || *c == 0x7f;
    T_CHECK(!bad, "%s printed a control character:\n%s", argvs[k][0], out);
    T_CHECK(!strstr(out, "\n| fake"), "%s printed a forged line:\n%s", argvs[k][0], out);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mlpb-test-history-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  T_RUN(test_workload_identity);
  T_RUN(test_history_labels);
  T_RUN(test_machine_identity);
  T_RUN(test_names);
  T_RUN(test_detection_rates);
  T_RUN(test_history_command);
  T_RUN(test_history_duplicates);
  T_RUN(test_compare_duplicates);
  T_RUN(test_history_machine);
  T_RUN(test_compare_machine);
  T_RUN(test_compare_paired_missing);
  T_RUN(test_step_speed);
  T_RUN(test_history_since);
  T_RUN(test_history_plots);
  T_RUN(test_terminal_text);
  rmtree(dir);
  T_EXIT();
}
