#define _GNU_SOURCE
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../workloads/io/file_read.h"
#include "../../workloads/io/outfile.h"
#include "../sys/plot_text.h"
#include "../sys/term_text.h"
#include "json_arrays.h"
#include "run_identity.h"
#include "wl_identity.h"

#define SCHEMA "mlpbench-results-1"

/* JSON has no NaN or Infinity: a non-finite number is written as null. */
static json_t *jnum(double x) {
  return isfinite(x) ? json_real(x) : json_null();
}

/* A string into JSON, invalid UTF-8 replaced by U+FFFD (each bad byte becomes 3): jansson
 * refuses an invalid string, which wrote "command": null, or left a BMF key out. */
static json_t *jstr(const char *s) {
  size_t n = 3 * strlen(s) + 1;
  char *clean = malloc(n);
  if (!clean) return NULL;
  json_t *v = json_string(utf8_clean(clean, n, s));
  free(clean);
  return v;
}

static json_t *jarray(const double *x, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, jnum(x[i]));
  return a;
}

/* ---- one field list per struct drives both writing and reading, so a round trip keeps
 * every key (tests/test_results.c checks write(read(write(r))) == write(r)) ---- */

typedef enum {
  F_STR,
  F_INT,
  F_U64,
  F_BOOL,
  F_NUM,
  F_HEX64,
  F_ARRAY, /* a double * with its count at n_off (null for NaN) */
  F_OBJ,   /* a nested object: the sub table on the same struct, or the to/from pair */
  F_OK,    /* an int as "ok" (nonzero) or "failed" */
} field_type;

enum {
  F_DERIVED = 1,       /* written for readers; recomputed when read (report_row_summarize) */
  F_OWN_COUNT = 2,     /* F_ARRAY: reading sets its count to the array's length */
  F_SAME_COUNT = 4,    /* F_ARRAY: all arrays sharing its count have ref_off's count, or all 0 */
  F_WRITE_IF = 8,      /* written only when the int at flag_off is nonzero */
  F_WRITE_UNLESS = 16, /* written only when the int at flag_off is 0 */
  F_NOTE_KEY = 32,     /* reading sets the int at flag_off to whether the key is there */
};

typedef struct field {
  const char *key;
  field_type type;
  size_t off, size;
  unsigned flags;
  size_t n_off;    /* F_ARRAY: the int counting it */
  size_t ref_off;  /* F_SAME_COUNT: the count the group has, when it is whole */
  size_t flag_off; /* F_WRITE_IF, F_WRITE_UNLESS, F_NOTE_KEY */
  const struct field *sub;
  int n_sub;
  json_t *(*to)(const void *p);
  void (*from)(void *p, const json_t *o);
} field;
#define FIELD(st, key, type, m)                                                                    \
  { key, type, offsetof(st, m), sizeof(((st *)0)->m), 0, 0, 0, 0, NULL, 0, NULL, NULL }
/* FIELD with flags and their member (flag_off) */
#define FIELD_IF(st, key, type, m, fl, flag_m)                                                     \
  {                                                                                                \
    key, type, offsetof(st, m), sizeof(((st *)0)->m), fl, 0, 0, offsetof(st, flag_m), NULL, 0,     \
        NULL, NULL                                                                                 \
  }
#define DERIVED(st, key, m)                                                                        \
  { key, F_NUM, offsetof(st, m), sizeof(double), F_DERIVED, 0, 0, 0, NULL, 0, NULL, NULL }
/* an array of doubles counted by n; fl: F_OWN_COUNT, F_SAME_COUNT (with ref) or 0 (reads n) */
#define ARRAY(st, key, m, n, fl, ref)                                                              \
  {                                                                                                \
    key, F_ARRAY, offsetof(st, m), sizeof(double *), fl, offsetof(st, n), offsetof(st, ref), 0,    \
        NULL, 0, NULL, NULL                                                                        \
  }
#define OBJECT(st, key, sub_table)                                                                 \
  { key, F_OBJ, 0, sizeof(st), 0, 0, 0, 0, sub_table, N_FIELDS(sub_table), NULL, NULL }
#define N_FIELDS(a) ((int)(sizeof a / sizeof a[0]))

static const field context_fields[] = {
    FIELD(report_context, "date", F_STR, date),
    FIELD(report_context, "host", F_STR, host),
    FIELD(report_context, "cpu", F_STR, cpu),
    FIELD(report_context, "cores", F_INT, cores),
    FIELD(report_context, "cpu_mhz", F_INT, mhz),
    FIELD(report_context, "caches", F_STR, caches),
    FIELD(report_context, "os", F_STR, os),
    FIELD(report_context, "compiler", F_STR, compiler),
    FIELD(report_context, "flags", F_STR, flags),
    FIELD(report_context, "git_commit", F_STR, commit),
    FIELD(report_context, "git_commit_date", F_STR, commit_date),
    FIELD(report_context, "blas_library", F_STR, blas_library),
    FIELD(report_context, "blas_kernel", F_STR, blas_kernel),
    FIELD(report_context, "blas_threads", F_INT, blas_threads),
    FIELD(report_context, "blas_kernel_chosen_by", F_STR, blas_kernel_by),
    FIELD(report_context, "thread_wait_policy", F_STR, wait_policy),
    FIELD(report_context, "machine_peak_gflops", F_NUM, peak_gflops),
    FIELD(report_context, "machine_peak_by", F_STR, peak_by),
    FIELD(report_context, "machine_peak_at", F_STR, peak_at),
    FIELD(report_context, "machine_peak_disturbed", F_STR, peak_disturbed),
    FIELD(report_context, "gpu", F_STR, gpu),
    FIELD(report_context, "command", F_STR, command),
    FIELD(report_context, "seed", F_U64, seed),
    FIELD(report_context, "ftz", F_BOOL, ftz),
    FIELD(report_context, "tf32", F_BOOL, tf32),
};

/* The facts that identify a workload (name, model sizes, data hash, batch, sampling...) are
 * not here: wl_identity's table places them in the file, so compare and history read back
 * exactly what was written. */
static const field workload_fields[] = {
    FIELD(report_workload, "n_val", F_INT, n_val),
    FIELD(report_workload, "n_test", F_INT, n_test),
    FIELD(report_workload, "batches_per_epoch", F_INT, batches_per_epoch),
    FIELD(report_workload, "epochs", F_INT, epochs),
    FIELD(report_workload, "warmup", F_INT, warmup),
    FIELD(report_workload, "repeat", F_INT, repeat),
    FIELD(report_workload, "block", F_INT, block),
    FIELD(report_workload, "gflop_per_epoch", F_NUM, gflop_per_epoch),
    FIELD(report_workload, "samples_per_epoch", F_NUM, samples_per_epoch),
};

static const field dataset_fields[] = {
    FIELD(report_workload, "name", F_STR, dataset),
    FIELD(report_workload, "source", F_STR, dataset_source),
    FIELD(report_workload, "title", F_STR, data_title),
};

static const field spec_fields[] = {
    FIELD(mlp_spec, "max_batch", F_INT, max_batch),
};

static const field gc_fields[] = {
    FIELD(gc_result, "pass", F_BOOL, pass),
    FIELD(gc_result, "batch", F_INT, batch),
    FIELD(gc_result, "tolerance", F_NUM, tol),
    FIELD(gc_result, "worst_rel", F_NUM, worst),
    FIELD(gc_result, "loss", F_NUM, loss),
    FIELD(gc_result, "loss_ref", F_NUM, loss_ref),
    FIELD(gc_result, "loss_rel", F_NUM, loss_rel),
    FIELD(gc_result, "loss_tolerance", F_NUM, loss_tol),
};

static const field gc_err_fields[] = {
    FIELD(gc_err, "rel_l2", F_NUM, rel_l2),
    FIELD(gc_err, "max_abs", F_NUM, max_abs),
    FIELD(gc_err, "nmse", F_NUM, nmse),
    FIELD(gc_err, "tolerance", F_NUM, tol),
};

/* A JSON array of numbers (null: NaN) into a new array of `want` (or all) entries; one that
 * json_arrays decoded (la) is handed over whole when it has the count wanted. */
static int read_array(const json_t *a, double **out, int want, json_arrays *la) {
  json_num_array *d = json_arrays_find(la, a);
  if (d && !d->v) d = NULL, a = NULL; /* taken already: each placeholder is read once */
  size_t have = d ? d->n : json_is_array(a) ? json_array_size(a) : 0;
  if (have > (1u << 26)) have = 1u << 26;
  size_t n = want >= 0 ? (size_t)want : have;
  if (d && n == d->n && n) {
    *out = d->v;
    d->v = NULL;
    return (int)n;
  }
  *out = malloc((n ? n : 1) * sizeof **out);
  if (!*out) return -1;
  for (size_t i = 0; i < n; i++) {
    json_t *v = d || i >= have ? NULL : json_array_get(a, i);
    (*out)[i] = d ? (i < have ? d->v[i] : NAN) : json_is_number(v) ? json_number_value(v) : NAN;
  }
  return (int)n;
}

static int *int_at(void *base, size_t off) {
  return (int *)((char *)base + off);
}

static json_t *fields_to_json(json_t *o, const void *obj, const field *f, int n) {
  const char *base = obj;
  for (int i = 0; i < n; i++) {
    const void *p = base + f[i].off;
    const int flag =
        (f[i].flags & (F_WRITE_IF | F_WRITE_UNLESS)) ? *int_at((void *)base, f[i].flag_off) : 0;
    if (((f[i].flags & F_WRITE_IF) && !flag) || ((f[i].flags & F_WRITE_UNLESS) && flag)) continue;
    json_t *v = NULL;
    char hex[24];
    switch (f[i].type) {
    case F_STR:
      v = jstr(p);
      break;
    case F_INT:
      v = json_integer(*(const int *)p);
      break;
    case F_U64:
      v = json_integer((json_int_t) * (const uint64_t *)p);
      break;
    case F_BOOL:
      v = json_boolean(*(const int *)p);
      break;
    case F_NUM:
      v = jnum(*(const double *)p);
      break;
    case F_HEX64:
      snprintf(hex, sizeof hex, "%016llx", (unsigned long long)*(const uint64_t *)p);
      v = json_string(hex);
      break;
    case F_ARRAY:
      v = jarray(*(double *const *)p, *int_at((void *)base, f[i].n_off));
      break;
    case F_OBJ:
      v = f[i].to ? f[i].to(p) : fields_to_json(json_object(), base, f[i].sub, f[i].n_sub);
      break;
    case F_OK:
      v = json_string(*(const int *)p ? "ok" : "failed");
      break;
    }
    json_object_set_new(o, f[i].key, v ? v : json_null());
  }
  return o;
}

/* Missing or mistyped keys read as empty, 0, false or NaN: a file from elsewhere is data,
 * not trusted structure. Derived figures are not read: the caller recomputes them. 0, or -1
 * when out of memory. */
static int fields_from_json(void *obj, const field *f, int n, const json_t *o, json_arrays *la) {
  char *base = obj;
  for (int i = 0; i < n; i++) {
    void *p = base + f[i].off;
    json_t *v = json_object_get(o, f[i].key);
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    const char *str = json_string_value(v);
    if (f[i].flags & F_NOTE_KEY)
      *int_at(base, f[i].flag_off) = f[i].type == F_OBJ ? json_is_object(v) : v != NULL;
    if (f[i].flags & F_DERIVED) continue;
    int *count = f[i].type == F_ARRAY ? int_at(base, f[i].n_off) : NULL;
    switch (f[i].type) {
    case F_STR: /* cut on a character boundary when the file's string is longer */
      utf8_clean(p, f[i].size, str);
      break;
    case F_INT:
      *(int *)p = isfinite(x) && fabs(x) < 2e9 ? (int)x : 0;
      break;
    case F_U64:
      *(uint64_t *)p = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
      break;
    case F_BOOL:
    case F_OK:
      *(int *)p = f[i].type == F_OK ? str && strcmp(str, "ok") == 0 : json_is_true(v);
      break;
    case F_NUM:
      *(double *)p = x;
      break;
    case F_HEX64:
      *(uint64_t *)p = str ? strtoull(str, NULL, 16) : 0;
      break;
    case F_ARRAY:
      if (f[i].flags & F_SAME_COUNT) { /* the group's figures for every entry, or none */
        const int want = *int_at(base, f[i].ref_off);
        *count = want;
        for (int k = 0; k < n; k++) {
          const json_t *a = json_object_get(o, f[k].key);
          const json_num_array *d = json_arrays_find(la, a);
          size_t size = d ? d->n : json_is_array(a) ? json_array_size(a) : (size_t)-1;
          if ((f[k].flags & F_SAME_COUNT) && f[k].n_off == f[i].n_off && size != (size_t)want)
            *count = 0;
        }
      }
      *count = read_array(v, (double **)p, f[i].flags & F_OWN_COUNT ? -1 : *count, la);
      if (*count < 0) return -1;
      break;
    case F_OBJ:
      if (f[i].from && json_is_object(v))
        f[i].from(p, v);
      else if (f[i].sub && fields_from_json(base, f[i].sub, f[i].n_sub, v, la))
        return -1;
      break;
    }
  }
  return 0;
}

static const char *const act_names[] = {"sigmoid", "relu"};
static const char *const loss_names[] = {"sigmoid_squared_error", "softmax_cross_entropy"};
static const char *const opt_names[] = {"sgd", "adam"};

static int name_index(const json_t *o, const char *key, const char *const *names, int n) {
  const char *v = json_string_value(json_object_get(o, key));
  for (int i = 0; v && i < n; i++)
    if (strcmp(v, names[i]) == 0) return i;
  return 0;
}

static json_t *spec_json(const mlp_spec *s) {
  json_t *o = fields_to_json(json_object(), s, spec_fields, N_FIELDS(spec_fields));
  json_object_set_new(o, "activation", json_string(act_names[s->act == MLP_ACT_RELU]));
  json_object_set_new(o, "loss", json_string(loss_names[s->loss == MLP_LOSS_SOFTMAX_CE]));
  json_object_set_new(o, "optimizer", json_string(opt_names[s->opt == MLP_OPT_ADAM]));
  json_object_set_new(o, "lr", json_real(s->lr));
  json_object_set_new(o, "beta1", json_real(s->beta1));
  json_object_set_new(o, "beta2", json_real(s->beta2));
  json_object_set_new(o, "eps", json_real(s->eps));
  return o;
}

static void spec_from_json(mlp_spec *s, const json_t *o) {
  fields_from_json(s, spec_fields, N_FIELDS(spec_fields), o, NULL);
  s->act = name_index(o, "activation", act_names, 2) ? MLP_ACT_RELU : MLP_ACT_SIGMOID;
  s->loss = name_index(o, "loss", loss_names, 2) ? MLP_LOSS_SOFTMAX_CE : MLP_LOSS_SIGMOID_SE;
  s->opt = name_index(o, "optimizer", opt_names, 2) ? MLP_OPT_ADAM : MLP_OPT_SGD;
  const char *keys[4] = {"lr", "beta1", "beta2", "eps"};
  float *dst[4] = {&s->lr, &s->beta1, &s->beta2, &s->eps};
  for (int i = 0; i < 4; i++) {
    json_t *v = json_object_get(o, keys[i]);
    *dst[i] = json_is_number(v) ? (float)json_number_value(v) : 0.0f;
  }
}

static json_t *gradcheck_json(const void *p) {
  const gc_result *g = p;
  json_t *t = json_object();
  for (int i = 0; i < 4; i++)
    json_object_set_new(
        t, gc_tensor_names[i],
        fields_to_json(json_object(), &g->t[i], gc_err_fields, N_FIELDS(gc_err_fields)));
  json_t *o = fields_to_json(json_object(), g, gc_fields, N_FIELDS(gc_fields));
  json_object_set_new(o, "tensors", t);
  return o;
}

static void gradcheck_from_json(void *p, const json_t *o) {
  gc_result *g = p;
  fields_from_json(g, gc_fields, N_FIELDS(gc_fields), o, NULL);
  json_t *t = json_object_get(o, "tensors");
  for (int i = 0; i < 4; i++)
    fields_from_json(&g->t[i], gc_err_fields, N_FIELDS(gc_err_fields),
                     json_object_get(t, gc_tensor_names[i]), NULL);
}

/* the curves of a row's last repeat, per epoch */
static const field curve_fields[] = {
    ARRAY(report_row, "loss", epoch_loss, n_epochs, F_OWN_COUNT, n_epochs),
    ARRAY(report_row, "val_acc", epoch_val_acc, n_epochs, 0, n_epochs),
};

/* A row: every key, written and read by fields_to_json / fields_from_json. */
static const field row_fields[] = {
    FIELD(report_row, "backend", F_STR, backend),
    FIELD(report_row, "details", F_STR, details),
    FIELD(report_row, "path", F_STR, path),
    /* older files did not record a row's library: library_known says whether this one did */
    FIELD_IF(report_row, "library", F_STR, library, F_NOTE_KEY, library_known),
    FIELD(report_row, "kernel", F_STR, kernel),
    FIELD(report_row, "threads", F_INT, threads),
    FIELD(report_row, "plugin_path", F_STR, plugin_path),
    FIELD(report_row, "plugin_sha256", F_STR, plugin_sha256),
    FIELD(report_row, "plugin_fenv_changed", F_STR, plugin_fenv_changed),
    FIELD(report_row, "reference", F_BOOL, reference),
    DERIVED(report_row, "samples_per_s", samples_per_s),
    DERIVED(report_row, "gflops", gflops),
    FIELD(report_row, "peak_fraction", F_NUM, peak_fraction),
    FIELD(report_row, "val_acc", F_NUM, val_acc),
    FIELD(report_row, "test_acc", F_NUM, test_acc),
    DERIVED(report_row, "gemm_floor", gemm_floor),
    FIELD(report_row, "gemm_floor_bounds_epoch", F_BOOL, floor_bounds),
    DERIVED(report_row, "step_floor", step_floor),
    DERIVED(report_row, "device_median", device_median),
    FIELD(report_row, "host_peak_growth_bytes", F_NUM, host_peak_growth),
    FIELD(report_row, "host_peak_exact", F_BOOL, host_peak_exact),
    FIELD(report_row, "device_bytes", F_NUM, device_bytes),
    FIELD(report_row, "disturbed", F_BOOL, disturbed),
    FIELD(report_row, "disturbed_reason", F_STR, disturbed_reason),
    FIELD(report_row, "timed_at", F_STR, timed_at),
    FIELD(report_row, "gemm_floor_at", F_STR, floor_at),
    FIELD(report_row, "load_seconds", F_NUM, load_seconds),
    FIELD(report_row, "other_cores", F_NUM, other_cores),
    FIELD(report_row, "steal_cores", F_NUM, steal_cores),
    FIELD(report_row, "load_resolution_cores", F_NUM, load_resolution),
    FIELD(report_row, "other_runnable", F_NUM, other_runnable),
    FIELD(report_row, "core_round_trip_start_ns", F_NUM, core_rtt_start),
    FIELD(report_row, "core_round_trip_end_ns", F_NUM, core_rtt_end),
    FIELD(report_row, "involuntary_switches_per_s", F_NUM, switches_per_s),
    FIELD(report_row, "cpu_per_wall", F_NUM, cpu_per_wall),
    FIELD(report_row, "framework", F_STR, framework),
    FIELD(report_row, "compile_mode", F_STR, compile_mode),
    FIELD(report_row, "threads_set_by", F_STR, threads_set_by),
    FIELD(report_row, "subnormals", F_STR, subnormals),
    FIELD(report_row, "compile_seconds", F_NUM, compile_seconds),
    FIELD(report_row, "over_threads", F_BOOL, over_threads),
    FIELD(report_row, "status", F_OK, ran),
    FIELD_IF(report_row, "error", F_STR, error, F_WRITE_UNLESS, ran),
    {"gradcheck", F_OBJ, offsetof(report_row, gc), sizeof(gc_result), F_WRITE_IF | F_NOTE_KEY, 0, 0,
     offsetof(report_row, gc_done), NULL, 0, gradcheck_json, gradcheck_from_json},
    ARRAY(report_row, "epoch_seconds", samples, n_samples, F_OWN_COUNT, n_samples),
    ARRAY(report_row, "epoch_cpu_seconds", cpu_samples, n_samples, 0, n_samples),
    /* absent in older files; a figure for every sample or none (report_row_summarize) */
    ARRAY(report_row, "epoch_device_seconds", dev_samples, n_dev, F_OWN_COUNT, n_dev),
    /* what else the machine did, per sample: absent in older files and for peers */
    ARRAY(report_row, "epoch_other_cpu_seconds", other_samples, n_load, F_SAME_COUNT, n_samples),
    ARRAY(report_row, "epoch_steal_seconds", steal_samples, n_load, F_SAME_COUNT, n_samples),
    ARRAY(report_row, "epoch_involuntary_switches", ivcsw_samples, n_load, F_SAME_COUNT, n_samples),
    ARRAY(report_row, "sample_other_runnable", runnable_samples, n_load, F_SAME_COUNT, n_samples),
    /* absent in files before it: read as NaN, the group above kept */
    ARRAY(report_row, "sample_threads", threads_samples, n_load, 0, n_samples),
    ARRAY(report_row, "gemm_floor_seconds", floor_samples, n_floor, F_OWN_COUNT, n_floor),
    /* absent in older files: no step floor */
    ARRAY(report_row, "step_floor_seconds", step_floor_samples, n_step_floor, F_OWN_COUNT,
          n_step_floor),
    ARRAY(report_row, "process_medians", proc_medians, n_proc, F_OWN_COUNT, n_proc),
    /* derived from epoch_seconds, for readers of the file; recomputed when read back */
    DERIVED(report_row, "median", st.median),
    DERIVED(report_row, "min", st.min),
    DERIVED(report_row, "max", st.max),
    DERIVED(report_row, "q1", st.q1),
    DERIVED(report_row, "q3", st.q3),
    DERIVED(report_row, "iqr", st.iqr),
    DERIVED(report_row, "mean", st.mean),
    OBJECT(report_row, "curves", curve_fields),
};

static json_t *row_json(const report_row *r) {
  return fields_to_json(json_object(), r, row_fields, N_FIELDS(row_fields));
}

static json_t *int_array(const int32_t *v, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, json_integer(v[i]));
  return a;
}

/* pixels as one hex string: two characters a pixel */
static json_t *montage_json(const report_montage *m) {
  size_t np = (size_t)m->n * m->side * m->side;
  char *hex = malloc(2 * np + 1);
  json_t *o = json_object();
  if (!hex) return o;
  for (size_t i = 0; i < np; i++)
    snprintf(hex + 2 * i, 3, "%02x", m->pixels[i]);
  json_object_set_new(o, "backend", jstr(m->backend));
  json_object_set_new(o, "side", json_integer(m->side));
  json_object_set_new(o, "truth", int_array(m->truth, m->n));
  json_object_set_new(o, "pred", int_array(m->pred, m->n));
  json_object_set_new(o, "pixels", json_stringn(hex, 2 * np));
  free(hex);
  return o;
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A montage from a file, or none (n = 0) unless every part is whole and in range: the
 * drawing trusts its sizes and labels (digits 0..9). 0, or -1 when out of memory. */
static int is_digit_label(double x) {
  return x >= 0 && x <= 9 && x == floor(x);
}

static int montage_from_json(report_montage *m, const json_t *o, json_arrays *la) {
  memset(m, 0, sizeof *m);
  json_t *tj = json_object_get(o, "truth"), *pj = json_object_get(o, "pred");
  const char *hex = json_string_value(json_object_get(o, "pixels"));
  json_t *side = json_object_get(o, "side");
  if (!json_is_object(o) || !(json_is_array(tj) || json_arrays_find(la, tj)) ||
      !(json_is_array(pj) || json_arrays_find(la, pj)) || !hex || !json_is_integer(side))
    return 0;
  double *truth = NULL, *pred = NULL;
  int n = read_array(tj, &truth, -1, la), s = (int)json_integer_value(side);
  int np_ = n >= 0 ? read_array(pj, &pred, -1, la) : -1;
  if (n < 0 || np_ < 0) {
    free(truth);
    free(pred);
    return -1;
  }
  size_t np = (size_t)n * s * s;
  int ok =
      n >= 1 && n <= REPORT_MONTAGE_MAX && np_ == n && s >= 1 && s <= 64 && strlen(hex) == 2 * np;
  for (int i = 0; ok && i < n; i++) {
    ok = is_digit_label(truth[i]) && is_digit_label(pred[i]);
    m->truth[i] = (int32_t)truth[i];
    m->pred[i] = (int32_t)pred[i];
  }
  free(truth);
  free(pred);
  if (!ok) {
    memset(m, 0, sizeof *m);
    return 0;
  }
  uint8_t *px = malloc(np);
  if (!px) return -1;
  for (size_t i = 0; i < np; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(px);
      memset(m, 0, sizeof *m);
      return 0;
    }
    px[i] = (uint8_t)(hi * 16 + lo);
  }
  const char *be = json_string_value(json_object_get(o, "backend"));
  snprintf(m->backend, sizeof m->backend, "%s", be ? be : "");
  m->pixels = px;
  m->n = n;
  m->side = s;
  return 0;
}

static json_t *workload_json(const report_workload *w) {
  json_t *o = fields_to_json(json_object(), w, workload_fields, N_FIELDS(workload_fields));
  json_t *rows = json_array(), *sweep = json_array();
  json_object_set_new(o, "spec", spec_json(&w->spec));
  json_object_set_new(o, "dataset",
                      fields_to_json(json_object(), w, dataset_fields, N_FIELDS(dataset_fields)));
  for (int i = 0; i < w->n_rows; i++)
    json_array_append_new(rows, row_json(&w->rows[i]));
  for (int i = 0; i < w->n_sweep; i++)
    json_array_append_new(sweep, json_pack("{s:o,s:o,s:i,s:o}", "param", jstr(w->sweep[i].param),
                                           "backend", jstr(w->sweep[i].backend), "value",
                                           w->sweep[i].value, "seconds_per_epoch",
                                           jnum(w->sweep[i].seconds)));
  json_object_set_new(o, "results", rows);
  json_object_set_new(o, "sweep", sweep);
  if (w->montage.n > 0) json_object_set_new(o, "montage", montage_json(&w->montage));
  wl_identity id;
  wl_identity_of(w, &id);
  if (wl_identity_to_json(&id, o)) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* ---- Google Benchmark's schema: one entry per repetition plus aggregates ---- */

/* the unit a row's times read best in: the largest whose median is at least 1 (a toy epoch of
 * 0.93 us in ms read 0.00093, which compare.py prints as 0) */
static const char *gbench_unit(double median_s, double *scale) {
  static const struct {
    const char *name;
    double scale;
  } units[] = {{"s", 1}, {"ms", 1e3}, {"us", 1e6}, {"ns", 1e9}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (median_s * units[i].scale >= 1 || i + 1 == sizeof units / sizeof units[0]) {
      *scale = units[i].scale;
      return units[i].name;
    }
  return "ns";
}

static void gbench_entry(json_t *list, const char *name, const char *run_name, int family, int reps,
                         int rep, const char *agg, const char *unit, double real, double cpu) {
  json_t *e = json_object();
  json_object_set_new(e, "name", jstr(name));
  json_object_set_new(e, "family_index", json_integer(family));
  json_object_set_new(e, "per_family_instance_index", json_integer(0));
  json_object_set_new(e, "run_name", jstr(run_name));
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
  json_object_set_new(e, "real_time", jnum(real));
  json_object_set_new(e, "cpu_time", jnum(cpu));
  json_object_set_new(e, "time_unit", json_string(unit));
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

/* the context's "L1d 32K, L2 1024K, L3 32768K" as Google Benchmark's cache list (the
 * sharing is not recorded: 0) */
static json_t *gbench_caches(const char *text) {
  json_t *list = json_array();
  const char *p = text;
  char type[8];
  int level, kib, used;
  while (sscanf(p, " L%d%7[a-z] %dK%n", &level, type, &kib, &used) == 3 ||
         (type[0] = '\0', sscanf(p, " L%d %dK%n", &level, &kib, &used) == 2)) {
    const char *t = strcmp(type, "d") == 0   ? "Data"
                    : strcmp(type, "i") == 0 ? "Instruction"
                                             : "Unified";
    json_array_append_new(list, json_pack("{s:s,s:i,s:I,s:i}", "type", t, "level", level, "size",
                                          (json_int_t)kib * 1024, "num_sharing", 0));
    p += used;
    while (*p == ',' || *p == ' ')
      p++;
  }
  return list;
}

static json_t *gbench_json(const report *r) {
  json_t *root = json_object(), *list = json_array();
  const report_context *c = &r->ctx;
  json_t *ctx =
      json_pack("{s:o,s:o,s:s,s:i,s:i,s:b,s:s,s:o,s:o}", "date", jstr(c->date), "host_name",
                jstr(c->host), "executable", "mlpbench", "num_cpus", c->cores, "mhz_per_cpu",
                c->mhz, "cpu_scaling_enabled", 0, "library_build_type", "release", "mlpbench_cpu",
                jstr(c->cpu), "mlpbench_blas_kernel", jstr(c->blas_kernel));
  json_object_set_new(ctx, "caches", gbench_caches(c->caches));
  int family = 0;
  for (int w = 0; w < r->n_wl; w++)
    for (int i = 0; i < r->wl[w].n_rows; i++, family++) {
      const report_row *row = &r->wl[w].rows[i];
      if (!row->ran) continue;
      char name[64], agg[80];
      snprintf(name, sizeof name, "%s/%s/epoch", r->wl[w].name, row->backend);
      double scale;
      const char *unit = gbench_unit(row->st.median, &scale);
      double *ms = malloc((size_t)row->n_samples * sizeof *ms);
      double *cms = malloc((size_t)row->n_samples * sizeof *cms);
      if (!ms || !cms) {
        free(ms);
        free(cms);
        continue;
      }
      for (int k = 0; k < row->n_samples; k++) {
        ms[k] = row->samples[k] * scale;
        cms[k] = row->cpu_samples[k] * scale;
        gbench_entry(list, name, name, family, row->n_samples, k, NULL, unit, ms[k], cms[k]);
      }
      double mean, sd, cmean, csd;
      moments(ms, row->n_samples, &mean, &sd);
      moments(cms, row->n_samples, &cmean, &csd);
      stats_summary cs = stats_summarize(cms, row->n_samples);
      const char *aggs[] = {"mean", "median", "stddev", "cv"};
      double real[] = {mean, row->st.median * scale, sd, mean > 0 ? sd / mean : 0};
      double cpu[] = {cmean, cs.median, csd, cmean > 0 ? csd / cmean : 0};
      for (int a = 0; a < 4; a++) {
        snprintf(agg, sizeof agg, "%s_%s", name, aggs[a]);
        gbench_entry(list, agg, name, family, row->n_samples, 0, aggs[a], unit, real[a], cpu[a]);
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
      json_array_append_new(list, json_pack("{s:o,s:s,s:o,s:s,s:o}", "name", jstr(name), "unit",
                                            "ms", "value", jnum(row->st.median * 1e3), "range",
                                            range, "extra", jstr(extra)));
    }
  return list;
}

/* ---- Bencher Metric Format: {benchmark: {measure: {value, lower_value, upper_value}}} ---- */

static json_t *bmf_measure(double value, double lo, double hi) {
  json_t *m = json_object();
  json_object_set_new(m, "value", json_real(value));
  if (isfinite(lo) && isfinite(hi) && lo <= value && value <= hi) {
    json_object_set_new(m, "lower_value", json_real(lo));
    json_object_set_new(m, "upper_value", json_real(hi));
  }
  return m;
}

/* One benchmark per series (run_series_name: workload identity, backend, machine, threads;
 * never the host, which CI changes every job); latency: ns per epoch, the median with the
 * quartiles as bounds; throughput: samples/s at the median. Rows that did not run, or whose
 * gradients failed their check, are left out: Bencher would track a wrong answer's speed. */
static json_t *bmf_json(const report *r) {
  json_t *o = json_object();
  for (int w = 0; w < r->n_wl; w++)
    for (int i = 0; i < r->wl[w].n_rows; i++) {
      const report_row *row = &r->wl[w].rows[i];
      if (!row->ran || !row->gc.pass || !(row->st.median > 0)) continue;
      char name[512], key[3 * sizeof name];
      if (run_series_name(r, &r->wl[w], row, name, sizeof name)) continue;
      utf8_clean(key, sizeof key, name); /* jansson refuses a key that is not UTF-8 */
      json_t *b = json_object();
      json_object_set_new(b, "latency",
                          bmf_measure(row->st.median * 1e9, row->st.q1 * 1e9, row->st.q3 * 1e9));
      json_object_set_new(b, "throughput",
                          bmf_measure(r->wl[w].samples_per_epoch / row->st.median, NAN, NAN));
      json_object_set_new(o, key, b);
    }
  return o;
}

static json_t *native_json(const report *r) {
  json_t *root = json_object(), *wls = json_array();
  json_object_set_new(root, "schema", json_string(SCHEMA));
  json_object_set_new(
      root, "context",
      fields_to_json(json_object(), &r->ctx, context_fields, N_FIELDS(context_fields)));
  json_object_set_new(root, "workloads", wls);
  for (int i = 0; i < r->n_wl; i++)
    if (json_array_append_new(wls, workload_json(&r->wl[i]))) { /* out of memory: no file */
      json_decref(root);
      return NULL;
    }
  return root;
}

/* the formats, in results_format's order: one builder each */
static const struct {
  const char *name;
  json_t *(*build)(const report *r);
} formats[] = {
    {"native", native_json}, {"gbench", gbench_json}, {"github", github_json}, {"bmf", bmf_json}};

int results_export_path(const char *results_path, results_format f, char *out, size_t len) {
  size_t n = strlen(results_path);
  if (n > 5 && strcmp(results_path + n - 5, ".json") == 0) n -= 5;
  int k = snprintf(out, len, "%.*s.%s.json", (int)n, results_path, formats[f].name);
  return k < 0 || (size_t)k >= len ? -1 : 0;
}

const char *results_format_name(int f) {
  return f >= 0 && (size_t)f < sizeof formats / sizeof formats[0] ? formats[f].name : NULL;
}

int results_format_find(const char *name) {
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (strcmp(formats[i].name, name) == 0) return (int)i;
  return -1;
}

json_t *results_to_json(const report *r, results_format f) {
  return (size_t)f < sizeof formats / sizeof formats[0] ? formats[f].build(r) : NULL;
}

void results_default_path(char *out, size_t len, const char *host, time_t when) {
  char stamp[32], name[72];
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&when));
  safe_name(name, sizeof name, host); /* a host name is not ours: no '/', no '..' */
  snprintf(out, len, "results/bench-%s-%s.json", stamp, name);
}

int results_check_writable(const char *path, char *err, size_t len) {
  return outfile_check(path, err, len);
}

int results_write(const char *path, json_t *j, char *err, size_t len) {
  outfile o;
  if (outfile_open(&o, path, err, len)) return -1;
  if (json_dumpf(j, o.f, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0 ||
      fputc('\n', o.f) == EOF) {
    snprintf(err, len, "%s: cannot write: %s", path, strerror(outfile_errno(&o)));
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

static void str(char *dst, size_t len, const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  snprintf(dst, len, "%s", s ? s : "");
}

static int row_from_json(const json_t *o, report_row *r, const report_workload *w,
                         json_arrays *la) {
  if (fields_from_json(r, row_fields, N_FIELDS(row_fields), o, la)) return -1;
  report_row_summarize(r, w);
  return 0;
}

/* j into r; its number arrays, or some of them, decoded already into la (NULL: none) */
static int from_json(const json_t *j, report *r, json_arrays *la, char *err, size_t len) {
  memset(r, 0, sizeof *r);
  const char *schema = json_string_value(json_object_get(j, "schema"));
  if (!schema || strcmp(schema, SCHEMA) != 0) {
    snprintf(err, len, "not an mlpbench results file (schema '%s', expected '%s')",
             schema ? schema : "none", SCHEMA);
    return -1;
  }
  fields_from_json(&r->ctx, context_fields, N_FIELDS(context_fields), json_object_get(j, "context"),
                   la);
  json_t *wls = json_object_get(j, "workloads");
  if (!json_is_array(wls)) {
    snprintf(err, len, "no 'workloads' array");
    return -1;
  }
  for (size_t i = 0; i < json_array_size(wls) && r->n_wl < REPORT_MAX_WORKLOADS; i++) {
    json_t *wo = json_array_get(wls, i), *rows = json_object_get(wo, "results");
    json_t *sweep = json_object_get(wo, "sweep");
    report_workload *w = report_add_workload(r);
    fields_from_json(w, workload_fields, N_FIELDS(workload_fields), wo, la);
    fields_from_json(w, dataset_fields, N_FIELDS(dataset_fields), json_object_get(wo, "dataset"),
                     la);
    spec_from_json(&w->spec, json_object_get(wo, "spec"));
    wl_identity id;
    wl_identity_from_json(wo, &id);
    wl_identity_to_workload(&id, w);
    for (size_t k = 0; json_is_array(rows) && k < json_array_size(rows); k++) {
      report_row *row = report_add_row(w);
      if (!row) break;
      if (row_from_json(json_array_get(rows, k), row, w, la)) {
        snprintf(err, len, "out of memory");
        return -1;
      }
    }
    if (montage_from_json(&w->montage, json_object_get(wo, "montage"), la)) {
      snprintf(err, len, "out of memory");
      return -1;
    }
    w->montage.dropped = json_object_get(wo, "montage") && w->montage.n == 0;
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
      p->value = (int)fmin(fmax(num(s, "value"), 0), 1e9);
      p->seconds = num(s, "seconds_per_epoch");
    }
  }
  return 0;
}

int results_from_json(const json_t *j, report *r, char *err, size_t len) {
  return from_json(j, r, NULL, err, len);
}

/* err made terminal-safe in place: it names a path from a folder listing and quotes the
 * file (its schema, jansson's "near '...'"), and every command prints it, history's and
 * compare's included. */
static void err_safe(char *err, size_t len) {
  char *raw = strdup(err);
  if (!raw) {
    snprintf(err, len, "(a message that could not be shown: out of memory)");
    return;
  }
  term_text(err, len, raw);
  free(raw);
}

/* The file's bytes (file_read_max: a FIFO or device is refused without blocking, a huge file
 * by its size before a byte is read), parsed; with la, its number arrays decoded into la
 * first (json_arrays.h: jansson's tree of them cost 25 times the file). */
static json_t *load(const char *path, json_arrays *la, char *err, size_t len) {
  uint8_t *buf = NULL;
  size_t n = 0;
  json_error_t je;
  if (file_read_max(path, RESULTS_MAX_FILE, NULL, 0, "a results file", &buf, &n, err, len)) {
    err_safe(err, len);
    return NULL;
  }
  if (la && json_arrays_extract((char *)buf, n, la)) {
    free(buf);
    snprintf(err, len, "%s: out of memory", path);
    err_safe(err, len);
    return NULL;
  }
  json_t *j = json_loadb((const char *)buf, n, 0, &je);
  free(buf);
  if (!j) {
    if (je.text[0] && je.line >= 0)
      snprintf(err, len, "%s: %s (line %d)", path, je.text, je.line);
    else /* jansson out of memory says nothing, at line -1 */
      snprintf(err, len, "%s: %s", path, je.text[0] ? je.text : "out of memory");
    err_safe(err, len);
    if (la) json_arrays_free(la);
  }
  return j;
}

json_t *results_load_json(const char *path, char *err, size_t len) {
  return load(path, NULL, err, len);
}

int results_read(const char *path, report *r, char *err, size_t len) {
  json_arrays la;
  json_t *j = load(path, &la, err, len);
  memset(r, 0, sizeof *r);
  if (!j) return -1;
  char why[512];
  int rc = from_json(j, r, &la, why, sizeof why);
  json_decref(j);
  json_arrays_free(&la);
  if (rc) {
    snprintf(err, len, "%s: %s", path, why);
    err_safe(err, len);
    report_free(r);
  }
  return rc;
}
