#define _GNU_SOURCE
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"

#define SCHEMA "mlpbench-results-1"

/* JSON has no NaN or Infinity: a non-finite number is written as null. */
static json_t *jnum(double x) {
  return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jarray(const double *x, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, jnum(x[i]));
  return a;
}

static json_t *context_json(const report_context *c) {
  json_t *o = json_object();
  json_object_set_new(o, "date", json_string(c->date));
  json_object_set_new(o, "host", json_string(c->host));
  json_object_set_new(o, "cpu", json_string(c->cpu));
  json_object_set_new(o, "cores", json_integer(c->cores));
  json_object_set_new(o, "caches", json_string(c->caches));
  json_object_set_new(o, "os", json_string(c->os));
  json_object_set_new(o, "compiler", json_string(c->compiler));
  json_object_set_new(o, "flags", json_string(c->flags));
  json_object_set_new(o, "git_commit", json_string(c->commit));
  json_object_set_new(o, "blas_library", json_string(c->blas_library));
  json_object_set_new(o, "blas_kernel", json_string(c->blas_kernel));
  json_object_set_new(o, "blas_threads", json_integer(c->blas_threads));
  json_object_set_new(o, "gpu", json_string(c->gpu));
  json_object_set_new(o, "command", json_string(c->command));
  json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
  json_object_set_new(o, "ftz", json_boolean(c->ftz));
  json_object_set_new(o, "tf32", json_boolean(c->tf32));
  return o;
}

static json_t *spec_json(const mlp_spec *s) {
  return json_pack(
      "{s:i,s:i,s:i,s:s,s:s,s:s,s:f,s:f,s:f,s:f}", "n_in", s->n_in, "n_hidden", s->n_hidden,
      "n_out", s->n_out, "activation", s->act == MLP_ACT_RELU ? "relu" : "sigmoid", "loss",
      s->loss == MLP_LOSS_SOFTMAX_CE ? "softmax_cross_entropy" : "sigmoid_squared_error",
      "optimizer", s->opt == MLP_OPT_ADAM ? "adam" : "sgd", "lr", (double)s->lr, "beta1",
      (double)s->beta1, "beta2", (double)s->beta2, "eps", (double)s->eps);
}

static json_t *gradcheck_json(const report_row *r) {
  json_t *t = json_object();
  for (int i = 0; i < 4; i++)
    json_object_set_new(t, gc_tensor_names[i],
                        json_pack("{s:o,s:o,s:o}", "rel_l2", jnum(r->gc.t[i].rel_l2), "max_abs",
                                  jnum(r->gc.t[i].max_abs), "nmse", jnum(r->gc.t[i].nmse)));
  return json_pack("{s:b,s:o,s:o,s:o,s:o,s:o,s:o}", "pass", r->gc.pass, "tolerance",
                   jnum(r->gc.tol), "worst_rel", jnum(r->gc.worst), "loss", jnum(r->gc.loss),
                   "loss_ref", jnum(r->gc.loss_ref), "loss_rel", jnum(r->gc.loss_rel), "tensors",
                   t);
}

static json_t *row_json(const report_row *r) {
  json_t *o = json_object();
  json_object_set_new(o, "backend", json_string(r->backend));
  json_object_set_new(o, "details", json_string(r->details));
  json_object_set_new(o, "status", json_string(r->ran ? "ok" : "failed"));
  if (!r->ran) json_object_set_new(o, "error", json_string(r->error));
  if (r->gc_done) json_object_set_new(o, "gradcheck", gradcheck_json(r));
  json_object_set_new(o, "epoch_seconds", jarray(r->samples, r->n_samples));
  json_object_set_new(o, "epoch_cpu_seconds", jarray(r->cpu_samples, r->n_samples));
  json_object_set_new(o, "median", jnum(r->st.median));
  json_object_set_new(o, "min", jnum(r->st.min));
  json_object_set_new(o, "max", jnum(r->st.max));
  json_object_set_new(o, "q1", jnum(r->st.q1));
  json_object_set_new(o, "q3", jnum(r->st.q3));
  json_object_set_new(o, "iqr", jnum(r->st.q3 - r->st.q1));
  json_object_set_new(o, "mean", jnum(r->st.mean));
  json_object_set_new(o, "samples_per_s", jnum(r->samples_per_s));
  json_object_set_new(o, "gflops", jnum(r->gflops));
  json_object_set_new(o, "curves",
                      json_pack("{s:o,s:o}", "loss", jarray(r->epoch_loss, r->n_epochs), "val_acc",
                                jarray(r->epoch_val_acc, r->n_epochs)));
  json_object_set_new(o, "val_acc", jnum(r->val_acc));
  json_object_set_new(o, "test_acc", jnum(r->test_acc));
  return o;
}

static json_t *workload_json(const report_workload *w) {
  char hash[24];
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)w->dataset_hash);
  json_t *o = json_object(), *rows = json_array(), *sweep = json_array();
  json_object_set_new(o, "name", json_string(w->name));
  json_object_set_new(o, "spec", spec_json(&w->spec));
  json_object_set_new(
      o, "dataset",
      json_pack("{s:s,s:s,s:s}", "name", w->dataset, "source", w->dataset_source, "hash", hash));
  json_object_set_new(o, "n_train", json_integer(w->n_train));
  json_object_set_new(o, "n_val", json_integer(w->n_val));
  json_object_set_new(o, "n_test", json_integer(w->n_test));
  json_object_set_new(o, "batch", json_integer(w->batch));
  json_object_set_new(o, "batches_per_epoch", json_integer(w->batches_per_epoch));
  json_object_set_new(o, "epochs", json_integer(w->epochs));
  json_object_set_new(o, "warmup", json_integer(w->warmup));
  json_object_set_new(o, "repeat", json_integer(w->repeat));
  json_object_set_new(o, "block", json_integer(w->block));
  json_object_set_new(o, "sampling", json_string(w->sampling));
  json_object_set_new(o, "zero_grad", json_boolean(w->zero_grad));
  json_object_set_new(o, "gflop_per_epoch", jnum(w->gflop_per_epoch));
  json_object_set_new(o, "samples_per_epoch", jnum(w->samples_per_epoch));
  for (int i = 0; i < w->n_rows; i++)
    json_array_append_new(rows, row_json(&w->rows[i]));
  for (int i = 0; i < w->n_sweep; i++)
    json_array_append_new(sweep,
                          json_pack("{s:s,s:s,s:i,s:o}", "param", w->sweep[i].param, "backend",
                                    w->sweep[i].backend, "value", w->sweep[i].value,
                                    "seconds_per_epoch", jnum(w->sweep[i].seconds)));
  json_object_set_new(o, "results", rows);
  json_object_set_new(o, "sweep", sweep);
  return o;
}

/* ---- Google Benchmark's schema: one entry per repetition plus aggregates ---- */

static void gbench_entry(json_t *list, const char *name, const char *run_name, int family, int reps,
                         int rep, const char *agg, double real_ms, double cpu_ms) {
  json_t *e = json_object();
  json_object_set_new(e, "name", json_string(name));
  json_object_set_new(e, "family_index", json_integer(family));
  json_object_set_new(e, "per_family_instance_index", json_integer(0));
  json_object_set_new(e, "run_name", json_string(run_name));
  json_object_set_new(e, "run_type", json_string(agg ? "aggregate" : "iteration"));
  json_object_set_new(e, "repetitions", json_integer(reps));
  json_object_set_new(e, "threads", json_integer(1));
  if (agg) {
    json_object_set_new(e, "aggregate_name", json_string(agg));
    json_object_set_new(e, "aggregate_unit",
                        json_string(strcmp(agg, "cv") == 0 ? "percentage" : "time"));
  } else {
    json_object_set_new(e, "repetition_index", json_integer(rep));
  }
  json_object_set_new(e, "iterations", json_integer(1));
  json_object_set_new(e, "real_time", jnum(real_ms));
  json_object_set_new(e, "cpu_time", jnum(cpu_ms));
  json_object_set_new(e, "time_unit", json_string("ms"));
  json_array_append_new(list, e);
}

static void moments(const double *x, int n, double *mean, double *sd) {
  double s = 0, q = 0;
  for (int i = 0; i < n; i++)
    s += x[i];
  *mean = n ? s / n : 0;
  for (int i = 0; i < n; i++)
    q += (x[i] - *mean) * (x[i] - *mean);
  *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

static json_t *gbench_json(const report *r) {
  json_t *root = json_object(), *list = json_array();
  const report_context *c = &r->ctx;
  json_t *ctx = json_pack("{s:s,s:s,s:s,s:i,s:i,s:b,s:s,s:s,s:s}", "date", c->date, "host_name",
                          c->host, "executable", "mlpbench", "num_cpus", c->cores, "mhz_per_cpu", 0,
                          "cpu_scaling_enabled", 0, "library_build_type", "release", "mlpbench_cpu",
                          c->cpu, "mlpbench_blas_kernel", c->blas_kernel);
  json_object_set_new(ctx, "caches", json_array());
  int family = 0;
  for (int w = 0; w < r->n_wl; w++)
    for (int i = 0; i < r->wl[w].n_rows; i++, family++) {
      const report_row *row = &r->wl[w].rows[i];
      if (!row->ran) continue;
      char name[64], agg[80];
      snprintf(name, sizeof name, "%s/%s/epoch", r->wl[w].name, row->backend);
      double *ms = malloc((size_t)row->n_samples * sizeof *ms);
      double *cms = malloc((size_t)row->n_samples * sizeof *cms);
      if (!ms || !cms) {
        free(ms);
        free(cms);
        continue;
      }
      for (int k = 0; k < row->n_samples; k++) {
        ms[k] = row->samples[k] * 1e3;
        cms[k] = row->cpu_samples[k] * 1e3;
        gbench_entry(list, name, name, family, row->n_samples, k, NULL, ms[k], cms[k]);
      }
      double mean, sd, cmean, csd;
      moments(ms, row->n_samples, &mean, &sd);
      moments(cms, row->n_samples, &cmean, &csd);
      stats_summary cs = stats_summarize(cms, row->n_samples);
      const char *aggs[] = {"mean", "median", "stddev", "cv"};
      double real[] = {mean, row->st.median * 1e3, sd, mean > 0 ? sd / mean : 0};
      double cpu[] = {cmean, cs.median, csd, cmean > 0 ? csd / cmean : 0};
      for (int a = 0; a < 4; a++) {
        snprintf(agg, sizeof agg, "%s_%s", name, aggs[a]);
        gbench_entry(list, agg, name, family, row->n_samples, 0, aggs[a], real[a], cpu[a]);
      }
      free(ms);
      free(cms);
    }
  json_object_set_new(root, "context", ctx);
  json_object_set_new(root, "benchmarks", list);
  return root;
}

/* github-action-benchmark's customSmallerIsBetter: median with the IQR as its range. */
static json_t *github_json(const report *r) {
  json_t *list = json_array();
  for (int w = 0; w < r->n_wl; w++)
    for (int i = 0; i < r->wl[w].n_rows; i++) {
      const report_row *row = &r->wl[w].rows[i];
      if (!row->ran) continue;
      char name[64], range[48], extra[320];
      snprintf(name, sizeof name, "%s/%s median time per epoch", r->wl[w].name, row->backend);
      snprintf(range, sizeof range, "± %.4g", (row->st.q3 - row->st.q1) * 1e3 / 2);
      snprintf(extra, sizeof extra, "IQR %.4g ms, n %d, gradcheck %s, %s",
               (row->st.q3 - row->st.q1) * 1e3, row->n_samples, row->gc.pass ? "pass" : "FAILED",
               r->ctx.cpu);
      json_array_append_new(list,
                            json_pack("{s:s,s:s,s:o,s:s,s:s}", "name", name, "unit", "ms", "value",
                                      jnum(row->st.median * 1e3), "range", range, "extra", extra));
    }
  return list;
}

json_t *results_to_json(const report *r, results_format f) {
  if (f == RESULTS_GBENCH) return gbench_json(r);
  if (f == RESULTS_GITHUB) return github_json(r);
  json_t *root = json_object(), *wls = json_array();
  json_object_set_new(root, "schema", json_string(SCHEMA));
  json_object_set_new(root, "context", context_json(&r->ctx));
  for (int i = 0; i < r->n_wl; i++)
    json_array_append_new(wls, workload_json(&r->wl[i]));
  json_object_set_new(root, "workloads", wls);
  return root;
}

int results_check_writable(const char *path, char *err, size_t len) {
  return outfile_check(path, err, len);
}

int results_write(const char *path, json_t *j, char *err, size_t len) {
  outfile o;
  if (outfile_open(&o, path, err, len)) return -1;
  if (json_dumpf(j, o.f, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0 ||
      fputc('\n', o.f) == EOF) {
    snprintf(err, len, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
    outfile_abort(&o);
    return -1;
  }
  return outfile_commit(&o, err, len);
}

/* ---- reading back ---- */

static double num(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static int inum(const json_t *o, const char *k) {
  double v = num(o, k);
  return isfinite(v) && fabs(v) < 2e9 ? (int)v : 0;
}

/* Reads a number array; with want >= 0 the result has exactly want entries (NaN-padded or
 * cut), so arrays that must run in parallel always do, whatever the file says. */
static int read_array(const json_t *a, double **out, int want) {
  size_t have = json_is_array(a) ? json_array_size(a) : 0;
  if (have > (1u << 26)) have = 1u << 26;
  size_t n = want >= 0 ? (size_t)want : have;
  *out = malloc((n ? n : 1) * sizeof **out);
  if (!*out) return -1;
  for (size_t i = 0; i < n; i++) {
    json_t *v = i < have ? json_array_get(a, i) : NULL;
    (*out)[i] = json_is_number(v) ? json_number_value(v) : NAN;
  }
  return (int)n;
}

static void str(char *dst, size_t len, const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  snprintf(dst, len, "%s", s ? s : "");
}

static int row_from_json(const json_t *o, report_row *r) {
  str(r->backend, sizeof r->backend, o, "backend");
  str(r->details, sizeof r->details, o, "details");
  str(r->error, sizeof r->error, o, "error");
  const char *status = json_string_value(json_object_get(o, "status"));
  r->ran = status && strcmp(status, "ok") == 0;
  json_t *gc = json_object_get(o, "gradcheck");
  if (json_is_object(gc)) {
    r->gc_done = 1;
    r->gc.pass = json_is_true(json_object_get(gc, "pass"));
    r->gc.tol = num(gc, "tolerance");
    r->gc.worst = num(gc, "worst_rel");
    r->gc.loss_rel = num(gc, "loss_rel");
  }
  r->n_samples = read_array(json_object_get(o, "epoch_seconds"), &r->samples, -1);
  if (r->n_samples < 0 ||
      read_array(json_object_get(o, "epoch_cpu_seconds"), &r->cpu_samples, r->n_samples) < 0)
    return -1;
  r->st = stats_summarize(r->samples, r->n_samples);
  r->samples_per_s = num(o, "samples_per_s");
  r->gflops = num(o, "gflops");
  json_t *cv = json_object_get(o, "curves");
  r->n_epochs = read_array(json_object_get(cv, "loss"), &r->epoch_loss, -1);
  if (r->n_epochs < 0 ||
      read_array(json_object_get(cv, "val_acc"), &r->epoch_val_acc, r->n_epochs) < 0)
    return -1;
  r->val_acc = num(o, "val_acc");
  r->test_acc = num(o, "test_acc");
  return 0;
}

int results_from_json(const json_t *j, report *r, char *err, size_t len) {
  memset(r, 0, sizeof *r);
  const char *schema = json_string_value(json_object_get(j, "schema"));
  if (!schema || strcmp(schema, SCHEMA) != 0) {
    snprintf(err, len, "not an mlpbench results file (schema '%s', expected '%s')",
             schema ? schema : "none", SCHEMA);
    return -1;
  }
  json_t *c = json_object_get(j, "context");
  str(r->ctx.date, sizeof r->ctx.date, c, "date");
  str(r->ctx.host, sizeof r->ctx.host, c, "host");
  str(r->ctx.cpu, sizeof r->ctx.cpu, c, "cpu");
  str(r->ctx.commit, sizeof r->ctx.commit, c, "git_commit");
  str(r->ctx.blas_kernel, sizeof r->ctx.blas_kernel, c, "blas_kernel");
  json_t *wls = json_object_get(j, "workloads");
  if (!json_is_array(wls)) {
    snprintf(err, len, "no 'workloads' array");
    return -1;
  }
  for (size_t i = 0; i < json_array_size(wls) && r->n_wl < REPORT_MAX_WORKLOADS; i++) {
    json_t *wo = json_array_get(wls, i), *rows = json_object_get(wo, "results");
    json_t *sweep = json_object_get(wo, "sweep");
    report_workload *w = &r->wl[r->n_wl++];
    str(w->name, sizeof w->name, wo, "name");
    json_t *ds = json_object_get(wo, "dataset");
    str(w->dataset, sizeof w->dataset, ds, "name");
    str(w->dataset_source, sizeof w->dataset_source, ds, "source");
    const char *hash = json_string_value(json_object_get(ds, "hash"));
    w->dataset_hash = hash ? strtoull(hash, NULL, 16) : 0;
    w->n_train = inum(wo, "n_train");
    w->n_val = inum(wo, "n_val");
    w->n_test = inum(wo, "n_test");
    w->batches_per_epoch = inum(wo, "batches_per_epoch");
    w->warmup = inum(wo, "warmup");
    w->repeat = inum(wo, "repeat");
    w->block = inum(wo, "block");
    str(w->sampling, sizeof w->sampling, wo, "sampling");
    w->zero_grad = json_is_true(json_object_get(wo, "zero_grad"));
    w->epochs = inum(wo, "epochs");
    w->batch = inum(wo, "batch");
    w->samples_per_epoch = num(wo, "samples_per_epoch");
    w->gflop_per_epoch = num(wo, "gflop_per_epoch");
    json_t *spec = json_object_get(wo, "spec");
    w->spec.n_in = inum(spec, "n_in");
    w->spec.n_hidden = inum(spec, "n_hidden");
    w->spec.n_out = inum(spec, "n_out");
    for (size_t k = 0;
         json_is_array(rows) && k < json_array_size(rows) && w->n_rows < REPORT_MAX_ROWS; k++)
      if (row_from_json(json_array_get(rows, k), &w->rows[w->n_rows++])) {
        snprintf(err, len, "out of memory");
        return -1;
      }
    size_t ns = json_is_array(sweep) ? json_array_size(sweep) : 0;
    w->sweep = calloc(ns ? ns : 1, sizeof *w->sweep);
    if (!w->sweep) {
      snprintf(err, len, "out of memory");
      return -1;
    }
    for (size_t k = 0; k < ns; k++) {
      json_t *s = json_array_get(sweep, k);
      report_sweep *p = &w->sweep[w->n_sweep++];
      str(p->param, sizeof p->param, s, "param");
      str(p->backend, sizeof p->backend, s, "backend");
      p->value = inum(s, "value");
      p->seconds = num(s, "seconds_per_epoch");
    }
  }
  return 0;
}

int results_read(const char *path, report *r, char *err, size_t len) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  memset(r, 0, sizeof *r);
  if (!j) {
    snprintf(err, len, "%s: %s (line %d)", path, je.text, je.line);
    return -1;
  }
  char why[512];
  int rc = results_from_json(j, r, why, sizeof why);
  if (rc) {
    snprintf(err, len, "%s: %s", path, why);
    report_free(r);
  }
  json_decref(j);
  return rc;
}
