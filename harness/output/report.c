/* report.c: where and how a run happened (the context of a results file), and the row and
 * workload bookkeeping of a report. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../sys/term_text.h"
#include "mlpb_commit.h" /* MLPB_GIT_COMMIT, written at build time */
#include "report.h"

#ifndef MLPB_C_FLAGS
#define MLPB_C_FLAGS "unknown"
#endif

static void read_line(const char *path, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  out[0] = '\0';
  if (!f) return;
  if (fgets(out, (int)len, f)) out[strcspn(out, "\n")] = '\0';
  fclose(f);
}

static void caches(char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < 8; i++) {
    char p[128], level[16], type[32], size[32];
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    read_line(p, level, sizeof level);
    if (!level[0]) break;
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
    read_line(p, type, sizeof type);
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    read_line(p, size, sizeof size);
    if (strcmp(type, "Instruction") == 0) continue;
    used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%sL%s%s %s",
                             used ? ", " : "", level, strcmp(type, "Data") == 0 ? "d" : "", size);
    if (used >= len) break;
  }
}

/* The clock /proc/cpuinfo reports for the first CPU (MHz), 0 when it reports none. */
static int cpu_mhz(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  double mhz = 0;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "cpu MHz", 7) == 0) {
      const char *c = strchr(line, ':');
      if (!c || sscanf(c + 1, "%lf", &mhz) != 1 || !(mhz > 0 && mhz < 1e5)) mhz = 0;
      break;
    }
  if (f) fclose(f);
  return (int)(mhz + 0.5);
}

const char *report_version(void) {
  return "mlpbench " MLPB_VERSION " (commit " MLPB_GIT_COMMIT ", " MLPB_GIT_COMMIT_DATE ")";
}

void report_time_now(char *buf, size_t len) {
  time_t now = time(NULL);
  struct tm tm;
  if (!gmtime_r(&now, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) buf[0] = '\0';
}

void report_context_fill(report_context *c, int argc, char **argv) {
  struct utsname u;
  memset(c, 0, sizeof *c);
  c->peak_gflops = NAN; /* measured by the runner, where a host library offers it */
  report_time_now(c->date, sizeof c->date);
  if (uname(&u) == 0) { /* the host's strings are not ours: valid UTF-8, whole characters */
    char os[sizeof u.sysname + sizeof u.release + sizeof u.machine + 3];
    snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
    utf8_clean(c->host, sizeof c->host, u.nodename);
    utf8_clean(c->os, sizeof c->os, os);
  }
  report_cpu_model(c->cpu, sizeof c->cpu);
  c->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  caches(c->caches, sizeof c->caches);
  c->mhz = cpu_mhz();
#if defined(__clang__)
  snprintf(c->compiler, sizeof c->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
  snprintf(c->compiler, sizeof c->compiler, "gcc %s", __VERSION__);
#endif
  snprintf(c->flags, sizeof c->flags, "%s", MLPB_C_FLAGS);
  snprintf(c->commit, sizeof c->commit, "%s", MLPB_GIT_COMMIT);
  snprintf(c->commit_date, sizeof c->commit_date, "%s", MLPB_GIT_COMMIT_DATE);
  report_context_command(c, argc, argv);
}

void report_context_command(report_context *c, int argc, char **argv) {
  /* joined at full length, then cut on a character boundary (a byte cut inside "é" made the
   * string invalid, and jansson wrote "command": null); invalid bytes become U+FFFD */
  size_t need = 1;
  for (int i = 0; i < argc; i++)
    need += strlen(argv[i]) + 1;
  char *all = malloc(need);
  if (!all) {
    c->command[0] = '\0';
    return;
  }
  size_t used = 0;
  for (int i = 0; i < argc; i++)
    used += (size_t)snprintf(all + used, need - used, "%s%s", i ? " " : "", argv[i]);
  all[used] = '\0';
  utf8_clean(c->command, sizeof c->command, all);
  free(all);
}

const char *const gc_tensor_names[4] = {"W1", "b1", "W2", "b2"};

void report_context_libraries(report_context *c, const report *r) {
  c->blas_library[0] = c->blas_kernel[0] = '\0';
  c->blas_threads = 0;
  for (int w = 0; w < r->n_wl; w++)
    for (int i = 0; i < r->wl[w].n_rows; i++) {
      const report_row *row = &r->wl[w].rows[i];
      if (!row->library[0]) continue;
      if (!c->blas_library[0]) {
        snprintf(c->blas_library, sizeof c->blas_library, "%s", row->library);
        snprintf(c->blas_kernel, sizeof c->blas_kernel, "%s", row->kernel);
        c->blas_threads = row->threads;
      } else if (strcmp(c->blas_library, row->library) || strcmp(c->blas_kernel, row->kernel) ||
                 c->blas_threads != row->threads) {
        /* rows on different libraries (a plugin's beside blas): no one of them is the run's */
        snprintf(c->blas_library, sizeof c->blas_library, "%s", REPORT_PER_ROW);
        c->blas_kernel[0] = '\0';
        c->blas_threads = 0;
        return;
      }
    }
  if (!c->blas_library[0]) c->blas_kernel_by[0] = '\0'; /* no math library: nobody chose */
}

report_row *report_add_row(report_workload *w) {
  if (w->n_rows == w->cap_rows) { /* a row pointer lives only until the next add */
    int cap = w->cap_rows ? 2 * w->cap_rows : 8;
    report_row *grown = realloc(w->rows, sizeof *grown * (size_t)cap);
    if (!grown) return NULL;
    w->rows = grown;
    w->cap_rows = cap;
  }
  report_row *r = &w->rows[w->n_rows++];
  memset(r, 0, sizeof *r);
  r->val_acc = r->test_acc = r->gemm_floor = r->step_floor = NAN;
  r->device_median = r->host_peak_growth = r->device_bytes = NAN; /* not measured */
  r->peak_fraction = NAN;
  r->library_known = 1; /* a row made here knows its library (none is a fact too); the results
                           reader says whether an older file recorded it */
  r->load_seconds = r->other_cores = r->steal_cores = r->load_resolution = NAN;
  r->other_runnable = r->switches_per_s = r->cpu_per_wall = NAN;
  r->core_rtt_start = r->core_rtt_end = NAN;
  r->compile_seconds = NAN;
  return r;
}

static double median_or_nan(const double *x, int n) {
  return n > 0 ? stats_summarize(x, n).median : NAN;
}

int report_row_under_floor(const report_row *r, double floor) {
  return r->floor_bounds && isfinite(floor) && floor > 0 &&
         r->st.median / floor < REPORT_FLOOR_RATIO;
}

void report_row_summarize(report_row *r, const report_workload *w) {
  r->st = stats_summarize(r->samples, r->n_samples);
  if (r->n_dev != r->n_samples) r->n_dev = 0; /* device time for every sample, or none */
  r->device_median = median_or_nan(r->dev_samples, r->n_dev);
  r->samples_per_s = r->n_samples ? w->samples_per_epoch / r->st.median : 0;
  r->gflops = r->n_samples ? w->gflop_per_epoch / r->st.median : 0;
  r->gemm_floor = median_or_nan(r->floor_samples, r->n_floor);
  r->step_floor = median_or_nan(r->step_floor_samples, r->n_step_floor);
}

report_workload *report_add_workload(report *r) {
  if (r->n_wl >= REPORT_MAX_WORKLOADS) return NULL;
  report_workload *w = &r->wl[r->n_wl++];
  memset(w, 0, sizeof *w);
  return w;
}

void report_cpu_model(char *out, size_t len) {
  snprintf(out, len, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) { /* cut on a character boundary: the model string is the host's */
        c[strcspn(c, "\n")] = '\0';
        utf8_clean(out, len, c[1] ? c + 2 : "");
      }
      break;
    }
  if (f) fclose(f);
}

static int row_rank(const report_row *r) {
  return r->ran && r->gc.pass ? 0 : 1;
}

static int cmp_rows(const void *a, const void *b) {
  const report_row *x = a, *y = b;
  if (row_rank(x) != row_rank(y)) return row_rank(x) - row_rank(y);
  return (x->st.median > y->st.median) - (x->st.median < y->st.median);
}

void report_sort_rows(report_workload *w) {
  qsort(w->rows, (size_t)w->n_rows, sizeof w->rows[0], cmp_rows);
}

void report_free(report *r) {
  for (int i = 0; i < r->n_wl; i++) {
    for (int j = 0; j < r->wl[i].n_rows; j++) {
      report_row *row = &r->wl[i].rows[j];
      free(row->samples);
      free(row->cpu_samples);
      free(row->dev_samples);
      free(row->epoch_loss);
      free(row->epoch_val_acc);
      free(row->floor_samples);
      free(row->step_floor_samples);
      free(row->proc_medians);
      free(row->other_samples);
      free(row->steal_samples);
      free(row->ivcsw_samples);
      free(row->threads_samples);
      free(row->runnable_samples);
    }
    free(r->wl[i].rows);
    free(r->wl[i].sweep);
    free(r->wl[i].montage.pixels);
  }
  memset(r, 0, sizeof *r);
}
