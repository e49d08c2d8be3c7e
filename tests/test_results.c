/* test_results.c: the results files (round trip, Google Benchmark and github schemas,
 * atomic writes), the gate's statistics against scipy's p-values, and the montage PNG. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/output/results.h"
#include "../harness/output/run_identity.h"
#include "../harness/output/table.h"
#include "../harness/output/wl_identity.h"
#include "../harness/stats/mwu.h"
#include "t.h"

static char dir[64];

static void fill_report(report *r) {
  memset(r, 0, sizeof *r);
  report_context_fill(&r->ctx, 0, NULL);
  r->ctx.seed = 7;
  r->n_wl = 1;
  report_workload *w = &r->wl[0];
  snprintf(w->name, sizeof w->name, "mnist");
  w->spec = (mlp_spec){.n_in = 784,
                       .n_hidden = 500,
                       .n_out = 10,
                       .act = MLP_ACT_RELU,
                       .loss = MLP_LOSS_SOFTMAX_CE,
                       .opt = MLP_OPT_ADAM,
                       .lr = 1e-3f};
  snprintf(w->dataset, sizeof w->dataset, "synthetic:100");
  snprintf(w->dataset_source, sizeof w->dataset_source, "generated");
  snprintf(w->data_title, sizeof w->data_title, "synthetic:100");
  snprintf(w->sampling, sizeof w->sampling, "tutorial sampling");
  w->dataset_hash = 0xfedcba9876543210ULL;
  w->n_train = 70;
  w->n_val = 30;
  w->n_test = 12;
  w->batches_per_epoch = 54;
  w->warmup = 1;
  w->repeat = 2;
  w->block = 1;
  w->has_accuracy = 1;
  w->zero_grad = 1;
  w->epochs = 4;
  w->batch = 128;
  w->samples_per_epoch = 7000;
  w->gflop_per_epoch = 11.2;
  const char *names[2] = {"blas", "naive"};
  for (int i = 0; i < 2; i++) {
    report_row *row = report_add_row(w);
    snprintf(row->backend, sizeof row->backend, "%s", names[i]);
    snprintf(row->details, sizeof row->details, "details %d", i);
    snprintf(row->path, sizeof row->path, "path %d", i);
    row->reference = i == 1;
    row->test_acc = NAN;
    row->gc.loss = 2.25;
    row->gc.loss_ref = 2.25;
    row->gc.t[2].rel_l2 = 3e-7;
    row->ran = 1;
    row->gc_done = 1;
    row->gc.pass = i == 0;
    row->gc.worst = i == 0 ? 2e-7 : 0.5;
    row->gc.tol = 1e-5;
    row->n_samples = 5;
    row->samples = malloc(5 * sizeof(double));
    row->cpu_samples = malloc(5 * sizeof(double));
    for (int k = 0; k < 5; k++) {
      row->samples[k] = (i + 1) * 0.1 + 0.001 * k;
      row->cpu_samples[k] = row->samples[k] * 1.9;
    }
    if (i == 0) { /* a device backend's own clock beside the wall clock */
      row->n_dev = 5;
      row->dev_samples = malloc(5 * sizeof(double));
      for (int k = 0; k < 5; k++)
        row->dev_samples[k] = row->samples[k] * 0.5;
    }
    if (i == 0) { /* what else the machine did, per sample, and the verdict on it */
      double **la[5] = {&row->other_samples, &row->steal_samples, &row->ivcsw_samples,
                        &row->runnable_samples, &row->threads_samples};
      row->n_load = 5;
      for (int a = 0; a < 5; a++) {
        *la[a] = malloc(5 * sizeof(double));
        for (int k = 0; k < 5; k++)
          (*la[a])[k] = 0.25 * a + 0.01 * k;
      }
      row->disturbed = 1;
      snprintf(row->disturbed_reason, sizeof row->disturbed_reason, "other processes used 1.5");
      row->other_cores = 1.5;
      row->load_seconds = 2.0;
      snprintf(row->timed_at, sizeof row->timed_at, "2026-12-05T01:02:03Z");
    }
    row->n_epochs = 2;
    row->epoch_loss = malloc(2 * sizeof(double));
    row->epoch_val_acc = malloc(2 * sizeof(double));
    row->epoch_loss[0] = 1.5;
    row->epoch_loss[1] = NAN; /* a diverged epoch must survive as null */
    row->epoch_val_acc[0] = 0.8;
    row->epoch_val_acc[1] = 0.9;
    row->val_acc = 0.9;
    report_row_summarize(row, w); /* its figures as every producer computes them */
  }
  report_montage *m = &w->montage; /* three images, one a miss */
  m->n = 3;
  m->side = 28;
  snprintf(m->backend, sizeof m->backend, "naive");
  m->pixels = malloc(3 * 28 * 28);
  for (int i = 0; i < 3 * 28 * 28; i++)
    m->pixels[i] = (uint8_t)(i * 7);
  for (int k = 0; k < 3; k++) {
    m->truth[k] = k;
    m->pred[k] = k == 2 ? 5 : k;
  }
}

/* The Markdown table: every line has the header's columns, a device clock's column and the
 * memory figures included, and a row shows its memory. */
static void test_table_columns(void) {
  report r;
  fill_report(&r);
  r.wl[0].rows[0].host_peak_growth = 3.5 * 1048576;
  r.wl[0].rows[0].host_peak_exact = 1;
  r.wl[0].rows[0].device_bytes = 512.0 * 1048576;
  r.wl[0].rows[1].host_peak_growth = r.wl[0].rows[1].device_bytes = NAN;
  r.wl[0].rows[1].ran = 0; /* a failed row keeps the header's columns too */
  snprintf(r.wl[0].rows[1].error, sizeof r.wl[0].rows[1].error, "out of memory");
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  table_print(f, &r.wl[0]);
  fclose(f);
  int want = -1, lines = 0, bad = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] != '|') continue;
    int bars = 0;
    for (char *c = line; *c; c++)
      bars += *c == '|';
    if (want < 0) want = bars;
    bad += bars != want;
    lines++;
  }
  T_CHECK(lines == 4 && bad == 0, "%d table lines, %d with another column count than the header",
          lines, bad);
  T_CHECK(len && strstr(buf, "device/epoch"), "no device column for a row with device time");
  free(buf);
  report_free(&r);
  fill_report(&r);
  r.wl[0].rows[0].host_peak_growth = 3.5 * 1048576;
  r.wl[0].rows[0].host_peak_exact = 1;
  r.wl[0].rows[0].device_bytes = 512.0 * 1048576;
  char mem[96];
  table_fmt_memory(mem, sizeof mem, &r.wl[0].rows[0]);
  T_CHECK(strcmp(mem, "RSS +3.5 MiB; device 512 MiB") == 0, "memory cell '%s'", mem);
  report_free(&r);
}

/* The header names the run's math library only when every row ran it: a plugin's row on
 * another library (listed first) makes it "per row", never the plugin's library for blas. */
static void test_context_library_per_row(void) {
  report r;
  fill_report(&r);
  report_row *a = &r.wl[0].rows[0], *b = &r.wl[0].rows[1];
  snprintf(a->library, sizeof a->library, "BLIS 0.9.0");
  snprintf(a->kernel, sizeof a->kernel, "zen3");
  a->threads = 1;
  snprintf(b->library, sizeof b->library, "OpenBLAS 0.3.21");
  snprintf(b->kernel, sizeof b->kernel, "Cooperlake");
  b->threads = 2;
  report_context_libraries(&r.ctx, &r);
  T_CHECK(strcmp(r.ctx.blas_library, REPORT_PER_ROW) == 0 && !r.ctx.blas_kernel[0] &&
              r.ctx.blas_threads == 0,
          "two libraries: context '%s' '%s' %d", r.ctx.blas_library, r.ctx.blas_kernel,
          r.ctx.blas_threads);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  table_print_header(f, &r, &r.wl[0]);
  fclose(f);
  T_CHECK(len && strstr(buf, "BLAS: per row") && !strstr(buf, "BLIS"), "header: %s", buf);
  free(buf);
  snprintf(a->library, sizeof a->library, "OpenBLAS 0.3.21");
  snprintf(a->kernel, sizeof a->kernel, "Cooperlake");
  a->threads = 2;
  report_context_libraries(&r.ctx, &r);
  T_CHECK(strcmp(r.ctx.blas_library, "OpenBLAS 0.3.21") == 0 && r.ctx.blas_threads == 2,
          "one library: context '%s' %d", r.ctx.blas_library, r.ctx.blas_threads);
  report_free(&r);
}

/* A montage that is not whole or not in range (a label of 12, pixels cut short, a side of
 * 1000) is dropped, and the rest of the file still reads. */
static void test_montage_malformed(void) {
  const char *bad[][2] = {{"truth", "[0, 1, 12]"}, {"pixels", "\"00ff\""}, {"side", "1000"}};
  for (int b = 0; b < 3; b++) {
    report r, back;
    char path[128], err[512];
    fill_report(&r);
    json_t *j = results_to_json(&r, RESULTS_NATIVE);
    json_t *m = json_object_get(json_array_get(json_object_get(j, "workloads"), 0), "montage");
    json_object_set_new(m, bad[b][0], json_loads(bad[b][1], JSON_DECODE_ANY, NULL));
    snprintf(path, sizeof path, "%s/m%d.json", dir, b);
    T_CHECK(json_dump_file(j, path, 0) == 0, "write");
    json_decref(j);
    T_CHECK(results_read(path, &back, err, sizeof err) == 0, "%s", err);
    T_CHECK(back.n_wl == 1 && back.wl[0].montage.n == 0 && back.wl[0].n_rows == 2,
            "a montage with a bad %s was kept (n %d)", bad[b][0], back.wl[0].montage.n);
    report_free(&back);
    report_free(&r);
  }
}

static void test_round_trip(void) {
  report r, back;
  char path[128], err[512];
  fill_report(&r);
  snprintf(path, sizeof path, "%s/r.json", dir);
  json_t *j = results_to_json(&r, RESULTS_NATIVE);
  T_CHECK(results_write(path, j, err, sizeof err) == 0, "%s", err);
  json_decref(j);
  T_CHECK(results_read(path, &back, err, sizeof err) == 0, "%s", err);
  T_CHECK(back.n_wl == 1 && back.wl[0].n_rows == 2, "%d workloads", back.n_wl);
  for (int i = 0; i < 2 && back.n_wl == 1; i++) {
    report_row *a = &r.wl[0].rows[i], *b = &back.wl[0].rows[i];
    T_CHECK(strcmp(a->backend, b->backend) == 0, "%s vs %s", a->backend, b->backend);
    T_CHECK(b->n_samples == 5 && memcmp(a->samples, b->samples, 5 * sizeof(double)) == 0,
            "samples differ");
    T_CHECK(b->st.median == a->st.median, "median %g vs %g", b->st.median, a->st.median);
    T_CHECK(i || (back.wl[0].montage.n == 3 && back.wl[0].montage.pred[2] == 5 &&
                  memcmp(back.wl[0].montage.pixels, r.wl[0].montage.pixels, 3 * 784) == 0),
            "the montage did not come back whole");
    T_CHECK(b->n_dev == a->n_dev &&
                (!a->n_dev || memcmp(a->dev_samples, b->dev_samples, 5 * sizeof(double)) == 0),
            "device samples differ (%d vs %d)", b->n_dev, a->n_dev);
    T_CHECK(b->gc.pass == a->gc.pass && b->gc_done, "gradcheck verdict lost");
    T_CHECK(
        b->n_load == a->n_load &&
            (!a->n_load || memcmp(a->other_samples, b->other_samples, 5 * sizeof(double)) == 0) &&
            b->disturbed == a->disturbed && strcmp(b->disturbed_reason, a->disturbed_reason) == 0,
        "the machine's figures or the disturbed verdict differ (%d vs %d)", b->n_load, a->n_load);
    T_CHECK(b->n_epochs == 2 && b->epoch_loss[0] == 1.5 && isnan(b->epoch_loss[1]) &&
                b->epoch_val_acc[1] == 0.9,
            "curves differ");
  }
  T_CHECK(strcmp(back.ctx.commit, r.ctx.commit) == 0, "commit %s", back.ctx.commit);
  /* the identity comes back whole, and sits at the keys every earlier version wrote it at, so
   * older files still pair with new ones in compare and history */
  wl_identity ia, ib;
  char why[160] = "";
  wl_identity_of(&r.wl[0], &ia);
  wl_identity_of(&back.wl[0], &ib);
  T_CHECK(wl_identity_diff(&ia, "written", &ib, "read", why, sizeof why) == 0, "%s", why);
  json_t *wj = results_to_json(&r, RESULTS_NATIVE);
  json_t *w0 = json_array_get(json_object_get(wj, "workloads"), 0);
  T_CHECK(json_integer_value(json_object_get(w0, "batch")) == r.wl[0].batch &&
              json_integer_value(json_object_get(json_object_get(w0, "spec"), "n_hidden")) ==
                  r.wl[0].spec.n_hidden &&
              json_is_true(json_object_get(w0, "has_accuracy")) &&
              strcmp(json_string_value(json_object_get(w0, "sampling")), "tutorial sampling") ==
                  0 &&
              strcmp(json_string_value(json_object_get(json_object_get(w0, "dataset"), "hash")),
                     "fedcba9876543210") == 0,
          "an identity fact moved from its key");
  json_decref(wj);
  /* complete: what is read back writes the very same file (every key, every value) */
  json_t *first = results_to_json(&r, RESULTS_NATIVE),
         *again = results_to_json(&back, RESULTS_NATIVE);
  T_CHECK(json_equal(first, again), "the round trip lost or changed a key");
  if (!json_equal(first, again)) {
    char *a = json_dumps(first, JSON_SORT_KEYS | JSON_COMPACT),
         *b = json_dumps(again, JSON_SORT_KEYS | JSON_COMPACT);
    size_t k = 0;
    while (a[k] && a[k] == b[k])
      k++;
    fprintf(stderr, "first difference at byte %zu:\n  %.160s\n  %.160s\n", k,
            a + (k > 40 ? k - 40 : 0), b + (k > 40 ? k - 40 : 0));
    free(a);
    free(b);
  }
  json_decref(first);
  json_decref(again);
  report_free(&back);
  /* no temp file is left behind */
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s/r.json.tmp.%d", dir, (int)getpid());
  T_CHECK(access(tmp, F_OK) != 0, "temp file left behind");
  report_free(&r);
}

static void test_gbench_schema(void) {
  report r;
  fill_report(&r);
  json_t *j = results_to_json(&r, RESULTS_GBENCH), *list = json_object_get(j, "benchmarks");
  T_CHECK(json_is_object(json_object_get(j, "context")), "no context");
  int iters = 0, aggs = 0, medians = 0;
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    /* the fields google/benchmark's tools/compare.py reads */
    const char *fields[] = {"name",      "run_type", "real_time",   "cpu_time",
                            "time_unit", "run_name", "repetitions", "iterations"};
    for (int f = 0; f < 8; f++)
      T_CHECK(json_object_get(e, fields[f]) != NULL, "entry %zu lacks %s", i, fields[f]);
    const char *rt = json_string_value(json_object_get(e, "run_type"));
    if (rt && strcmp(rt, "iteration") == 0) iters++;
    if (rt && strcmp(rt, "aggregate") == 0) {
      aggs++;
      const char *an = json_string_value(json_object_get(e, "aggregate_name"));
      if (an && strcmp(an, "median") == 0) {
        medians++;
        T_CHECK(fabs(json_real_value(json_object_get(e, "real_time")) - 102.0) < 1e-9 ||
                    fabs(json_real_value(json_object_get(e, "real_time")) - 202.0) < 1e-9,
                "median %g ms", json_real_value(json_object_get(e, "real_time")));
      }
    }
  }
  T_CHECK(iters == 10 && aggs == 8 && medians == 2, "%d iterations, %d aggregates", iters, aggs);
  json_decref(j);
  j = results_to_json(&r, RESULTS_GITHUB);
  T_CHECK(json_is_array(j) && json_array_size(j) == 2, "github list");
  json_t *first = json_array_get(j, 0);
  T_CHECK(strcmp(json_string_value(json_object_get(first, "unit")), "ms") == 0 &&
              json_object_get(first, "value") && json_object_get(first, "range"),
          "customSmallerIsBetter fields");
  json_decref(j);
  report_free(&r);
}

static void test_unwritable(void) {
  char err[512];
  T_CHECK(results_check_writable("/proc/mlpbench/r.json", err, sizeof err) == -1 &&
              strstr(err, "/proc/mlpbench"),
          "%s", err);
  char ro[128];
  snprintf(ro, sizeof ro, "%s/ro", dir);
  mkdir(ro, 0555);
  snprintf(ro, sizeof ro, "%s/ro/r.json", dir);
  if (geteuid() != 0) /* root writes anywhere */
    T_CHECK(results_check_writable(ro, err, sizeof err) == -1, "read-only folder accepted");
  report missing;
  T_CHECK(results_read("/nonexistent.json", &missing, err, sizeof err) == -1 &&
              strstr(err, "/nonexistent.json"),
          "missing file read: %s", err);
}

/* p-values from scipy.stats.mannwhitneyu(x, y, alternative='two-sided'), scipy 1.16 */
static void test_mann_whitney(void) {
  struct {
    double x[16], y[16];
    int n1, n2;
    double u, p;
  } c[] = {
      {{1, 2, 3}, {4, 5, 6}, 3, 3, 0.0, 0.1},
      {{1.5, 2.5, 3.1, 0.2, 9.0}, {4, 5, 6, 7.5, 8, 10.1, 11}, 5, 7, 5.0, 0.04797979797979798},
      {{1, 2, 2, 3, 4}, {2, 3, 5, 6, 6, 7}, 5, 6, 4.5, 0.06414661873440437},
      {{10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
       {10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5, 18.5, 19.5},
       10,
       10,
       45.0,
       0.7337299956962472},
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    mwu_result r;
    T_CHECK(mwu_test(c[i].x, c[i].n1, c[i].y, c[i].n2, &r) == 0, "case %zu", i);
    T_CHECK(fabs(r.u1 - c[i].u) < 1e-12 && fabs(r.p - c[i].p) < 1e-9 * fmax(1, c[i].p),
            "case %zu: U %g p %.12g, scipy U %g p %.12g", i, r.u1, r.p, c[i].u, c[i].p);
  }
  /* 12 vs 15 evenly spaced values: normal approximation, scipy p = 0.001788007438567641 */
  double a[12], b[15];
  for (int i = 0; i < 12; i++)
    a[i] = 1.0 + i / 11.0;
  for (int i = 0; i < 15; i++)
    b[i] = 1.5 + i / 14.0;
  mwu_result r;
  mwu_test(a, 12, b, 15, &r);
  T_CHECK(r.u1 == 25.5 && fabs(r.p - 0.001788007438567641) < 1e-9, "U %g p %.12g", r.u1, r.p);
  T_CHECK(mwu_test(a, 0, b, 15, &r) == -1, "empty sample accepted");
}

/* BMF's structure (bencher.dev's JSON schema for the json adapter): an object of benchmarks,
 * each an object of measures, each {value: number, lower_value?: number, upper_value?:
 * number} with nothing else; bounds, when present, around the value. */
static int bmf_valid(const json_t *j, char *why, size_t len) {
  const char *bench, *meas, *key;
  json_t *b, *m, *v;
  if (!json_is_object(j)) return snprintf(why, len, "not an object"), 0;
  json_object_foreach((json_t *)j, bench, b) {
    if (!*bench || !json_is_object(b) || !json_object_size(b))
      return snprintf(why, len, "benchmark '%s' is not a non-empty object", bench), 0;
    json_object_foreach(b, meas, m) {
      if (!json_is_object(m) || !json_is_number(json_object_get(m, "value")))
        return snprintf(why, len, "%s/%s has no numeric value", bench, meas), 0;
      json_object_foreach(m, key, v) if (strcmp(key, "value") && strcmp(key, "lower_value") &&
                                         strcmp(key, "upper_value")) return snprintf(why, len,
                                                                                     "%s/%s: "
                                                                                     "key %s",
                                                                                     bench, meas,
                                                                                     key),
          0;
      json_t *lo = json_object_get(m, "lower_value"), *hi = json_object_get(m, "upper_value");
      double x = json_number_value(json_object_get(m, "value"));
      if ((lo && (!json_is_number(lo) || json_number_value(lo) > x)) ||
          (hi && (!json_is_number(hi) || json_number_value(hi) < x)))
        return snprintf(why, len, "%s/%s: bounds do not enclose the value", bench, meas), 0;
    }
  }
  return 1;
}

/* The paired gate's test against values worked out by hand (scipy.stats.wilcoxon agrees). */
static void test_wilcoxon(void) {
  wilcoxon_result w;
  const double up[5] = {1, 2, 3, 4, 5}, mixed[6] = {-1, 2, 3, 4, 5, 6};
  const double none[6] = {1, -2, 3, -4, 5, -6};
  T_CHECK(wilcoxon_test(up, 5, &w) == 0 && w.exact && fabs(w.p - 0.0625) < 1e-12, "p %g", w.p);
  T_CHECK(wilcoxon_test(mixed, 6, &w) == 0 && w.w_plus == 20 && fabs(w.p - 0.0625) < 1e-12,
          "W+ %g p %g", w.w_plus, w.p);
  /* W+ = 1+3+5 = 9, W- = 12: 27 of the 64 sign patterns reach 12 or more, doubled */
  T_CHECK(wilcoxon_test(none, 6, &w) == 0 && fabs(w.p - 54.0 / 64) < 1e-12, "p %g", w.p);
  double many[40];
  for (int i = 0; i < 40; i++)
    many[i] = (i % 4 == 0 ? -1 : 1) * (0.01 + 0.001 * i); /* 30 up, 10 down */
  T_CHECK(wilcoxon_test(many, 40, &w) == 0 && !w.exact && w.p < 0.01, "normal approx p %g", w.p);
}

static void test_bmf_schema(void) {
  report r;
  char why[256] = "";
  fill_report(&r);
  json_t *j = results_to_json(&r, RESULTS_BMF);
  T_CHECK(bmf_valid(j, why, sizeof why), "BMF invalid: %s", why);
  /* the passing row is there with both measures; the row that failed its check is not */
  char name[160];
  T_CHECK(run_series_name(&r, &r.wl[0], &r.wl[0].rows[0], name, sizeof name) == 0, "no name");
  json_t *b = json_object_get(j, name);
  T_CHECK(b && json_object_get(b, "latency") && json_object_get(b, "throughput"), "no %s", name);
  T_CHECK(json_object_size(j) == 1, "%zu benchmarks (the failed row must be left out)",
          json_object_size(j));
  double ns = json_number_value(json_object_get(json_object_get(b, "latency"), "value"));
  T_CHECK(fabs(ns - r.wl[0].rows[0].st.median * 1e9) < 1e-3, "latency %g ns", ns);
  /* the validator is not a rubber stamp */
  json_object_set_new(json_object_get(b, "latency"), "lower_value", json_real(ns * 2));
  T_CHECK(!bmf_valid(j, why, sizeof why), "bounds above the value accepted");
  json_decref(j);
  report_free(&r);
}

/* ---- issue 18 sections 3 and 4: the careful reader, and text from files ---- */

/* A FIFO is refused at once (it blocked for ever), a file over the cap by its size, naming
 * the file and the cap. */
static void test_reader_refuses_fifo_and_huge(void) {
  char p[128], err[1024];
  report r;
  snprintf(p, sizeof p, "%s/fifo.json", dir);
  T_CHECK(mkfifo(p, 0644) == 0, "mkfifo");
  T_CHECK(results_read(p, &r, err, sizeof err) == -1 && strstr(err, "not a regular file") &&
              strstr(err, "fifo.json"),
          "%s", err);
  snprintf(p, sizeof p, "%s/huge.json", dir);
  FILE *f = fopen(p, "w");
  T_CHECK(f && ftruncate(fileno(f), (off_t)RESULTS_MAX_FILE + 1) == 0, "sparse file");
  if (f) fclose(f);
  char cap[32];
  snprintf(cap, sizeof cap, "%zu", RESULTS_MAX_FILE);
  T_CHECK(results_read(p, &r, err, sizeof err) == -1 && strstr(err, "huge.json") &&
              strstr(err, cap),
          "%s", err);
}

static int has_control(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 && *s != '\n') return 1;
  return 0;
}

/* Hostile strings in a report reach the table as text: no ESC, BEL or CR, and no line of
 * theirs: every line the table prints is one of ours. */
static void test_table_term_text(void) {
  static const char evil[] = "x\x1b]0;PWNED\x07\x1b[2J\n| fake | row |";
  report r;
  fill_report(&r);
  report_workload *w = &r.wl[0];
  char *fields[] = {r.ctx.host,        r.ctx.cpu,          r.ctx.date,      r.ctx.commit,
                    r.ctx.caches,      r.ctx.gpu,          w->dataset,      w->sampling,
                    w->name,           w->rows[0].backend, w->rows[0].path, w->rows[1].error,
                    r.ctx.blas_library};
  size_t sizes[] = {sizeof r.ctx.host,         sizeof r.ctx.cpu,       sizeof r.ctx.date,
                    sizeof r.ctx.commit,       sizeof r.ctx.caches,    sizeof r.ctx.gpu,
                    sizeof w->dataset,         sizeof w->sampling,     sizeof w->name,
                    sizeof w->rows[0].backend, sizeof w->rows[0].path, sizeof w->rows[1].error,
                    sizeof r.ctx.blas_library};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    snprintf(fields[i], sizes[i], "%s", evil);
  w->rows[1].ran = 0;
  char *text = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&text, &n);
  table_print_header(f, &r, w);
  table_print(f, w);
  fclose(f);
  T_CHECK(!has_control(text), "a control character reached the table");
  T_CHECK(!strstr(text, "\n| fake"), "a forged line: %s", text);
  /* and no column of theirs: every row of the table has the header's number of cells */
  int header = -1;
  for (char *line = text; line && *line;
       line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (*line != '|') continue;
    int bars = 0;
    for (char *c = line; *c && *c != '\n'; c++)
      bars += *c == '|' && (c == line || c[-1] != '\\');
    if (header < 0) header = bars;
    T_CHECK(bars == header, "a row with %d cells, the header has %d: %.*s", bars - 1, header - 1,
            (int)strcspn(line, "\n"), line);
  }
  T_CHECK(header > 0, "no table printed");
  free(text);
  report_free(&r);
}

/* Invalid UTF-8 and cuts inside a character: replaced, never a null or a dropped key. */
static void test_strings_stay_utf8(void) {
  report r;
  fill_report(&r);
  char arg[600];
  memset(arg, 'a', sizeof arg);
  for (size_t i = 505; i + 1 < sizeof arg; i += 2) /* "é" across the 512-byte cut */
    memcpy(arg + i, "\xc3\xa9", 2);
  arg[sizeof arg - 1] = '\0';
  char *argv[] = {"mlpbench", arg, "\xff\xfe"};
  report_context_command(&r.ctx, 3, argv);
  snprintf(r.ctx.host, sizeof r.ctx.host, "h\xff\xfe");
  json_t *j = results_to_json(&r, RESULTS_NATIVE);
  const char *cmd = json_string_value(json_object_get(json_object_get(j, "context"), "command"));
  T_CHECK(cmd && strlen(cmd) > 500, "command: %s", cmd ? cmd : "null");
  const char *host = json_string_value(json_object_get(json_object_get(j, "context"), "host"));
  T_CHECK(host && strcmp(host, "h\xef\xbf\xbd\xef\xbf\xbd") == 0, "host: %s", host ? host : "null");
  json_decref(j);
  j = results_to_json(&r, RESULTS_BMF);
  T_CHECK(json_object_size(j) == 1, "BMF with a non-UTF-8 host has %zu benchmarks",
          json_object_size(j));
  json_decref(j);
  j = results_to_json(&r, RESULTS_GBENCH);
  T_CHECK(json_is_object(json_object_get(j, "context")), "gbench context lost");
  json_decref(j);
  report_free(&r);
}

/* The host name in the default results path cannot climb out of results/ or carry controls. */
static void test_default_path_host(void) {
  char p[256];
  results_default_path(p, sizeof p, "../../etc/x\x1b[2J", 0);
  T_CHECK(strncmp(p, "results/bench-", 14) == 0 && !strchr(p + 8, '/') && !has_control(p), "%s", p);
}

/* The reader's messages are safe for every caller (history and compare print them): the
 * file's name and what it quotes of the file lose their control characters. */
static void test_reader_messages_safe(void) {
  char p[128], err[1024];
  report r;
  const char *bodies[] = {"{\"schema\": \"x\\u001b]0;PWNED\\u0007\"}", "{\"a\": \x1b[2J}"};
  for (int i = 0; i < 2; i++) {
    snprintf(p, sizeof p, "%s/e%d\x1b[2J.json", dir, i);
    FILE *f = fopen(p, "w");
    if (f) {
      fputs(bodies[i], f);
      fclose(f);
    }
    T_CHECK(results_read(p, &r, err, sizeof err) == -1 && !has_control(err), "%s", err);
  }
}

/* Long number arrays are decoded beside jansson (json_arrays.h): what comes back is what
 * jansson would have read, to the bit, nulls as NaN and short arrays alike; a montage of 40
 * (its labels decoded so too) stays whole; a broken file still says which line; a file that
 * itself names the placeholder's key is read by jansson alone. */
static void test_long_arrays(void) {
  report r, back;
  char path[128], err[512];
  fill_report(&r);
  report_row *row = &r.wl[0].rows[0];
  const int n = 300;
  double *sa = realloc(row->samples, n * sizeof *sa),
         *ca = realloc(row->cpu_samples, n * sizeof *ca);
  T_CHECK(sa && ca, "out of memory");
  row->samples = sa;
  row->cpu_samples = ca;
  for (int k = 0; k < n; k++) {
    sa[k] = 1e-7 * (k + 1) / 3.0 + (k % 7) * 1e-3;
    ca[k] = k % 11 ? -1.25e-300 * k : NAN; /* nulls, tiny and negative values */
  }
  row->n_samples = n;
  row->n_load = row->n_dev = 0; /* those arrays were 5 long */
  report_row_summarize(row, &r.wl[0]);
  report_montage *m = &r.wl[0].montage;
  uint8_t *px = realloc(m->pixels, 40 * 28 * 28);
  T_CHECK(px, "out of memory");
  m->pixels = px;
  m->n = 40;
  for (int k = 0; k < 40; k++) {
    m->truth[k] = k % 10;
    m->pred[k] = (k * 3) % 10;
  }
  snprintf(path, sizeof path, "%s/long.json", dir);
  json_t *j = results_to_json(&r, RESULTS_NATIVE);
  T_CHECK(results_write(path, j, err, sizeof err) == 0, "%s", err);
  T_CHECK(results_read(path, &back, err, sizeof err) == 0, "%s", err);
  json_t *again = results_to_json(&back, RESULTS_NATIVE);
  T_CHECK(json_equal(j, again), "a long array came back changed");
  const report_row *b = &back.wl[0].rows[0];
  T_CHECK(b->n_samples == n && memcmp(b->samples, sa, n * sizeof *sa) == 0 &&
              isnan(b->cpu_samples[0]) && b->cpu_samples[1] == ca[1] &&
              back.wl[0].montage.n == 40 && back.wl[0].montage.pred[39] == (39 * 3) % 10,
          "samples, nulls or the montage differ");
  json_decref(again);
  report_free(&back);
  /* the same file, a key naming the placeholder added: jansson reads it all, the same */
  json_object_set_new(j, "mlpbench-decoded-array", json_integer(0));
  T_CHECK(json_dump_file(j, path, JSON_INDENT(1)) == 0, "write");
  T_CHECK(results_read(path, &back, err, sizeof err) == 0 && back.wl[0].rows[0].n_samples == n &&
              memcmp(back.wl[0].rows[0].samples, sa, n * sizeof *sa) == 0,
          "a file naming the key: %s", err);
  report_free(&back);
  json_decref(j);
  /* broken after a long array: the line is the file's own */
  FILE *f = fopen(path, "w");
  T_CHECK(f != NULL, "open");
  fprintf(f, "{\"schema\": \"mlpbench-results-1\",\n \"a\": [");
  for (int k = 0; k < 100; k++)
    fprintf(f, "%s\n  %d", k ? "," : "", k);
  fprintf(f, "],\n \"b\": tru }\n");
  fclose(f);
  T_CHECK(results_read(path, &back, err, sizeof err) != 0 && strstr(err, "(line 103)"),
          "the broken line: %s", err);
  report_free(&r);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mlpb-test-results-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  T_RUN(test_round_trip);
  T_RUN(test_long_arrays);
  T_RUN(test_table_columns);
  T_RUN(test_context_library_per_row);
  T_RUN(test_montage_malformed);
  T_RUN(test_gbench_schema);
  T_RUN(test_bmf_schema);
  T_RUN(test_wilcoxon);
  T_RUN(test_unwritable);
  T_RUN(test_mann_whitney);
  T_RUN(test_reader_refuses_fifo_and_huge);
  T_RUN(test_table_term_text);
  T_RUN(test_strings_stay_utf8);
  T_RUN(test_default_path_host);
  T_RUN(test_reader_messages_safe);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 1;
  T_EXIT();
}
