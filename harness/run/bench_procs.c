#define _GNU_SOURCE
#include "bench_procs.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
#include "../output/results.h"
#include "../stats/stats.h"
#include "../sys/exitcode.h"
#include "../sys/interrupt.h"
#include "../sys/proc_spawn.h"
#include "../sys/tmpdir.h"
#include "disturbed.h"
#include "plan_file.h"

extern char **environ;

void procs_placement_env(int i, char *buf, size_t len) {
  /* lengths spread over 0..4095 bytes: the stack start moves by as much */
  size_t pad = ((size_t)i * 2654435761u) % 4096;
  int n = snprintf(buf, len, "MLPB_PLACEMENT=");
  for (size_t k = 0; k < pad && (size_t)n + 1 < len; k++)
    buf[n++] = 'x';
  buf[n] = '\0';
}

static char **child_env(int i, char *pad, size_t padlen) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 2, sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t j = 0; j < n; j++)
    if (strncmp(environ[j], "MLPB_PLACEMENT=", 15) != 0) env[k++] = environ[j];
  procs_placement_env(i + 1, pad, padlen);
  env[k] = pad;
  return env;
}

/* Adds child report c's samples and medians into base, row by row (same workload, backend). */
static int merge(report *base, const report *c, int first) {
  for (int w = 0; w < base->n_wl && w < c->n_wl; w++)
    for (int i = 0; i < base->wl[w].n_rows; i++) {
      report_row *b = &base->wl[w].rows[i];
      const report_row *r = NULL;
      for (int k = 0; k < c->wl[w].n_rows; k++)
        if (strcmp(c->wl[w].rows[k].backend, b->backend) == 0) r = &c->wl[w].rows[k];
      if (!r || !r->ran) continue;
      double *pm = realloc(b->proc_medians, (size_t)(b->n_proc + 1) * sizeof *pm);
      if (!pm) return -1;
      b->proc_medians = pm;
      pm[b->n_proc++] = r->st.median;
      if (first) { /* the base row is the first process's: its verdict says so */
        if (b->disturbed) {
          char why[sizeof b->disturbed_reason];
          snprintf(why, sizeof why, "process 1: %.230s", b->disturbed_reason);
          snprintf(b->disturbed_reason, sizeof b->disturbed_reason, "%s", why);
        }
        continue;
      }
      disturbed_merge(b, r, b->n_proc);
      if (!b->plugin_fenv_changed[0]) /* a plugin's FP change in any process is the row's */
        snprintf(b->plugin_fenv_changed, sizeof b->plugin_fenv_changed, "%s",
                 r->plugin_fenv_changed);
      /* memory: the largest any fresh process needed */
      if (stats_max_finite(b->host_peak_growth, r->host_peak_growth) != b->host_peak_growth) {
        b->host_peak_growth = r->host_peak_growth;
        b->host_peak_exact = r->host_peak_exact;
      }
      b->device_bytes = stats_max_finite(b->device_bytes, r->device_bytes);
      size_t n = (size_t)(b->n_samples + r->n_samples);
      double *s = realloc(b->samples, n * sizeof *s),
             *cs = s ? realloc(b->cpu_samples, n * sizeof *cs) : NULL;
      if (s) b->samples = s;
      if (!s || !cs) return -1;
      b->cpu_samples = cs;
      memcpy(s + b->n_samples, r->samples, (size_t)r->n_samples * sizeof *s);
      memcpy(cs + b->n_samples, r->cpu_samples, (size_t)r->n_samples * sizeof *cs);
      if (b->n_load == b->n_samples && r->n_load == r->n_samples && r->n_load) {
        double **dst[5] = {&b->other_samples, &b->steal_samples, &b->ivcsw_samples,
                           &b->runnable_samples, &b->threads_samples};
        double *src[5] = {r->other_samples, r->steal_samples, r->ivcsw_samples, r->runnable_samples,
                          r->threads_samples};
        for (int a = 0; a < 5; a++) {
          double *m = realloc(*dst[a], n * sizeof *m);
          if (!m) return -1;
          *dst[a] = m;
          memcpy(m + b->n_load, src[a], (size_t)r->n_load * sizeof *m);
        }
        b->n_load += r->n_load;
      } else {
        b->n_load = 0; /* the machine's figures for every sample, or none */
      }
      if (b->n_dev == b->n_samples && r->n_dev == r->n_samples && r->n_dev) {
        double *ds = realloc(b->dev_samples, n * sizeof *ds);
        if (!ds) return -1;
        b->dev_samples = ds;
        memcpy(ds + b->n_dev, r->dev_samples, (size_t)r->n_dev * sizeof *ds);
        b->n_dev += r->n_dev;
      } else {
        b->n_dev = 0; /* device time for every sample, or none */
      }
      b->n_samples += r->n_samples;
    }
  return 0;
}

int procs_run(const run_plan *p, report *rep, char *why, size_t wlen) {
  char tmp[PATH_MAX - 64], path[PATH_MAX], plan[PATH_MAX];
  char err[PATH_MAX + 256], pad[4200];
  int worst = EXIT_OK;
  const report_context parent = rep->ctx; /* its machine peak: every child divides by it */
  if (tmpdir_make(tmp, sizeof tmp, "procs", err, sizeof err)) {
    snprintf(why, wlen, "no process was started: %s", err);
    return EXIT_RUNTIME;
  }
  for (int i = 0; i < p->processes; i++) {
    /* the child's plan is this plan: one process, its own results file, no Markdown and no
     * plots (this process draws them from the merged report); the first child alone also
     * runs the sweep */
    run_plan cp = *p;
    char pname[32], plname[32];
    snprintf(pname, sizeof pname, "process-%d.json", i);
    snprintf(plname, sizeof plname, "plan-%d.json", i);
    if (path_join(path, sizeof path, tmp, pname, err, sizeof err) ||
        path_join(plan, sizeof plan, tmp, plname, err, sizeof err)) {
      snprintf(why, wlen, "process %d of %d was not started: %s", i + 1, p->processes, err);
      worst = EXIT_RUNTIME;
      break;
    }
    cp.processes = 1;
    cp.quiet = 1;
    cp.out.results = path;
    cp.out.markdown = NULL;
    cp.out.format = 0; /* native: the parent reads it back */
    cp.out.plots = NULL;
    cp.require_quiet = 0; /* this process judges the merged rows */
    cp.peak.given = isfinite(parent.peak_gflops);
    cp.peak.gflops = parent.peak_gflops;
    cp.peak.by = parent.peak_by;
    cp.peak.at = parent.peak_at;
    cp.peak.disturbed = parent.peak_disturbed;
    if (i > 0)
      cp.sweep = 0; /* the peers too run in every process: a ranking compares
                     * medians across the same number of fresh processes */
    if (plan_write(plan, &cp, err, sizeof err)) {
      snprintf(why, wlen, "process %d of %d was not started: %s", i + 1, p->processes, err);
      worst = EXIT_RUNTIME;
      break;
    }
    const char *cargv[] = {"/proc/self/exe", "bench-process", plan, NULL};
    char **env = child_env(i, pad, sizeof pad);
    if (!p->quiet) fprintf(stderr, "  process %d of %d ...\n", i + 1, p->processes);
    const int no_env = !env;
    int rc = env ? spawn_run_env(cargv, env, "bench process", 5) : SPAWN_NO_START;
    free(env);
    if (rc != EXIT_OK && rc != EXIT_CHECK) {
      if (rc == SPAWN_NO_START)
        snprintf(why, wlen, "process %d of %d could not be started%s", i + 1, p->processes,
                 no_env ? " (out of memory)" : "");
      else if (rc > 128)
        snprintf(why, wlen, "process %d of %d was killed by signal %d", i + 1, p->processes,
                 rc - 128);
      else
        snprintf(why, wlen, "process %d of %d failed (exit %d)", i + 1, p->processes, rc);
      worst = rc > EXIT_RUNTIME || rc < 0 ? EXIT_RUNTIME : rc;
      break;
    }
    worst = rc > worst ? rc : worst;
    report c;
    if (results_read(path, &c, err, sizeof err)) {
      snprintf(why, wlen, "process %d of %d left no readable results: %s", i + 1, p->processes,
               err);
      worst = EXIT_RUNTIME;
      break;
    }
    int bad;
    if (i == 0) {
      *rep = c; /* the first process's report is the base: curves, floor, sweeps, peers */
      bad = merge(rep, rep, 1);
    } else {
      bad = merge(rep, &c, 0);
      report_free(&c);
    }
    if (bad) {
      snprintf(why, wlen, "out of memory merging process %d of %d", i + 1, p->processes);
      worst = EXIT_RUNTIME;
      break;
    }
  }
  for (int w = 0; w < rep->n_wl; w++) {
    for (int i = 0; i < rep->wl[w].n_rows; i++) {
      report_row *r = &rep->wl[w].rows[i];
      if (!r->n_samples) continue;
      report_row_summarize(r, &rep->wl[w]);
      if (isfinite(r->peak_fraction)) /* a host row: against the parent's peak, as each child */
        r->peak_fraction = r->gflops / rep->ctx.peak_gflops;
      disturbed_judge(r); /* the merged median against the floor and the peak, once more */
    }
    report_sort_rows(&rep->wl[w]);
  }
  tmpdir_remove(tmp);
  return worst;
}
