/* mlpbench history [FILES | FOLDERS]: every series of runs, its latest median against the
 * previous run and the best, its spread, and its step changes (harness/history.h); with
 * --plots one trend plot per workload and machine; with --fail-on-step, exit 1 when a
 * series' latest run lies past a step toward slower (CI's longitudinal gate). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../output/history.h"
#include "../output/history_plot.h"
#include "../output/table.h"
#include "../stats/stats.h"
#include "cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: mlpbench history [--plots DIR] [--fail-on-step] [--min-effect F] "
             "FILE|FOLDER...\n\n"
             "Groups native results files into series (machine, workload, data, sampling, "
             "backend), ordered by commit\ndate (run date where unknown), and finds step "
             "changes in each (see harness/history.h).\n\n"
             "exit codes: 0 ok, 1 --fail-on-step and a series' latest run is past a step toward "
             "slower,\n2 usage error or no readable results file, 3 a plot could not be drawn\n");
}

/* The run-to-run spread of a series: the robust sigma of its log medians, as a percentage. */
static double spread_pct(const hist_series *s) {
  if (s->n < 3) return NAN;
  double *d = malloc((size_t)(s->n - 1) * sizeof *d);
  if (!d) return NAN;
  for (int i = 1; i < s->n; i++)
    d[i - 1] = fabs(log(s->pts[i].median / s->pts[i - 1].median));
  double v = 1.4826 * stats_summarize(d, s->n - 1).median / sqrt(2.0) * 100.0;
  free(d);
  return v;
}

static void print_series(const hist_series *s) {
  const hist_point *last = &s->pts[s->n - 1];
  double best = last->median;
  for (int i = 0; i < s->n; i++)
    best = s->pts[i].median < best ? s->pts[i].median : best;
  char lat[32], iqr[32], prev[24] = "-", vbest[24], spr[24] = "-";
  table_fmt_time(lat, sizeof lat, last->median);
  table_fmt_time(iqr, sizeof iqr, last->q3 - last->q1);
  if (s->n > 1)
    snprintf(prev, sizeof prev, "%+.1f%%", (last->median / s->pts[s->n - 2].median - 1) * 100);
  snprintf(vbest, sizeof vbest, "%+.1f%%", (last->median / best - 1) * 100);
  double sp = spread_pct(s);
  if (isfinite(sp)) snprintf(spr, sizeof spr, "%.1f%%", sp);
  printf("| %s %d-%d-%d b%d %s | %s | %s (%s) | %d | %s | %s (IQR %s) | %s | %s | %s | %d |\n",
         s->workload, s->id.n_in, s->id.n_hidden, s->id.n_out, s->id.batch, s->id.sampling,
         s->backend, s->host, s->cpu, s->n, last->commit, lat, iqr, prev, vbest, spr, s->n_steps);
}

int cmd_history(int argc, char **argv) {
  const char *plots = NULL;
  int fail_on_step = 0, np = 0;
  double min_effect = 0.05;
  const char **paths = calloc((size_t)argc, sizeof *paths);
  history h = {0};
  int rc = EXIT_USAGE;
  if (!paths) return EXIT_RUNTIME;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      rc = EXIT_OK;
      goto done;
    } else if (strcmp(argv[i], "--plots") == 0 && i + 1 < argc) {
      plots = argv[++i];
    } else if (strcmp(argv[i], "--fail-on-step") == 0) {
      fail_on_step = 1;
    } else if (strcmp(argv[i], "--min-effect") == 0 && i + 1 < argc) {
      char *end = NULL;
      min_effect = strtod(argv[++i], &end);
      if (*end || !(min_effect > 0 && min_effect < 1)) {
        fprintf(stderr, "mlpbench history: --min-effect must be in (0, 1), got '%s'\n", argv[i]);
        goto done;
      }
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "mlpbench history: unknown option '%s' (see --help)\n", argv[i]);
      goto done;
    } else {
      paths[np++] = argv[i];
    }
  }
  if (!np) {
    fprintf(stderr, "mlpbench history: needs results files or folders (see --help)\n");
    goto done;
  }
  for (int i = 0; i < np; i++)
    if (history_add_path(&h, paths[i], stderr)) {
      fprintf(stderr, "mlpbench history: out of memory\n");
      rc = EXIT_RUNTIME;
      goto done;
    }
  if (!h.files_read) {
    fprintf(stderr, "mlpbench history: no readable results file among %d path(s)\n", np);
    goto done;
  }
  history_finish(&h, min_effect);
  printf("# history: %d results files, %d skipped, %d series\n\n", h.files_read, h.files_skipped,
         h.n);
  printf("| workload | backend | machine | runs | latest commit | latest median | vs previous "
         "| vs best | run-to-run spread | steps |\n|---|---|---|---|---|---|---|---|---|---|\n");
  int slower_now = 0;
  for (int i = 0; i < h.n; i++)
    print_series(&h.s[i]);
  printf("\n");
  for (int i = 0; i < h.n; i++) {
    const hist_series *s = &h.s[i];
    for (int k = 0; k < s->n_steps; k++) {
      const hist_point *p = &s->pts[s->steps[k]];
      double ch = history_step_change(s, k);
      printf("step: %s/%s on %s: %+.1f%% from run %d: commit %s (%s), run %s, file %s\n",
             s->workload, s->backend, s->host, ch * 100, s->steps[k] + 1, p->commit,
             p->commit_date[0] ? p->commit_date : "date unknown", p->date, p->file);
      if (k == s->n_steps - 1 && ch > 0) slower_now = 1;
    }
  }
  rc = EXIT_OK;
  if (plots && history_plots(plots, &h)) rc = EXIT_RUNTIME;
  if (fail_on_step && slower_now) {
    printf("\nhistory: a series' latest runs are past a step toward slower\n");
    rc = EXIT_CHECK;
  }
done:
  history_free(&h);
  free(paths);
  return rc;
}
