/* mlpbench history [FILES | FOLDERS]: every series of runs, its latest median against the
 * previous run and the best, its spread, and its step changes (harness/history.h); with
 * --plots one trend plot per workload and machine; with --fail-on-step, exit 1 when a
 * series' latest run lies past a step toward slower (CI's longitudinal gate), with --since N
 * only a step among a series' last N runs. Every string from a results file reaches the
 * terminal through term_text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../output/history.h"
#include "../output/history_plot.h"
#include "../output/table.h"
#include "../stats/stats.h"
#include "../sys/interrupt.h"
#include "../sys/term_text.h"
#include "cli.h"

static const cli_command history_cmd = {
    "history",
    "FILE|FOLDER...",
    "PXvy",
    1,
    0,
    "Groups native results files into series (machine, workload, data, sampling, "
    "backend), ordered by commit\ndate (run date where unknown), and finds step "
    "changes in each (see harness/output/history.h).\nThe machine is what sets the "
    "speed: CPU model, cores, BLAS kernel and threads, GPU; the host name is\nonly a "
    "label (CI runners get a new one every job). The same run read twice (a folder "
    "named twice,\na copy of a file) counts once; the first line says how many were "
    "dropped.\n--plots DIR: one trend plot per workload and machine. --since N: "
    "--fail-on-step fails only when a series'\nfirst slower run is among its last N runs "
    "(default: any): a step long past no longer fails every later\nbuild. --min-effect F: "
    "the smallest level change that is a step.\n\n"
    "exit codes: 0 ok, 1 --fail-on-step and a series' latest run is past a step toward "
    "slower,\n2 usage error or no readable results file, 3 a plot could not be drawn"};

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

/* The machine as the table and the step lines name it: CPU and cores, then the latest host
 * name (a label), every part through term_text. */
static void machine_label(char *out, size_t len, const hist_series *s) {
  char cpu[160], host[100], gpu[160] = "";
  term_text(cpu, sizeof cpu, s->machine.cpu[0] ? s->machine.cpu : "CPU unknown");
  term_text(host, sizeof host, s->host);
  if (s->machine.gpu[0]) {
    char g[150];
    snprintf(gpu, sizeof gpu, ", %s", term_text(g, sizeof g, s->machine.gpu));
  }
  snprintf(out, len, "%s, %d cores%s (host %s)", cpu, s->machine.cores, gpu, host);
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
  char wl[64], samp[64], be[64], mach[600], commit[160];
  md_cell(wl, sizeof wl, s->workload);
  md_cell(samp, sizeof samp, s->id.sampling);
  md_cell(be, sizeof be, s->backend);
  md_cell(commit, sizeof commit, last->commit);
  char label[600];
  machine_label(label, sizeof label, s);
  md_cell(mach, sizeof mach, label);
  printf("| %s %d-%d-%d b%d %s | %s | %s | %d | %s | %s (IQR %s) | %s | %s | %s | %d |\n", wl,
         s->id.n_in, s->id.n_hidden, s->id.n_out, s->id.batch, samp, be, mach, s->n, commit, lat,
         iqr, prev, vbest, spr, s->n_steps);
}

/* One line per step: where it is, the first run after it, and the file that run came from. */
static void print_steps(const hist_series *s) {
  char wl[64], be[64], mach[600], commit[160], cdate[100], date[100], file[1024];
  term_text(wl, sizeof wl, s->workload);
  term_text(be, sizeof be, s->backend);
  machine_label(mach, sizeof mach, s);
  for (int k = 0; k < s->n_steps; k++) {
    const hist_point *p = &s->pts[s->steps[k]];
    term_text(commit, sizeof commit, p->commit);
    term_text(cdate, sizeof cdate, p->commit_date[0] ? p->commit_date : "date unknown");
    term_text(date, sizeof date, p->date);
    term_text(file, sizeof file, p->file);
    printf("step: %s/%s on %s: %+.1f%% from run %d: commit %s (%s), run %s, file %s\n", wl, be,
           mach, history_step_change(s, k) * 100, s->steps[k] + 1, commit, cdate, date, file);
  }
}

int cmd_history(int argc, char **argv) {
  cli_opts o;
  history h = {0};
  int rc;
  if (cli_begin(&history_cmd, argc, argv, &o, &rc)) return rc;
  rc = EXIT_USAGE;
  const char *plots = o.plan.out.plots;
  const int fail_on_step = o.fail_on_step, since = o.since, np = o.n_args;
  const double min_effect = o.min_effect;
  char **paths = o.args;
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
  printf("# history: %d results files, %d skipped, %d duplicate runs dropped, %d series\n\n",
         h.files_read, h.files_skipped, h.duplicates, h.n);
  printf("| workload | backend | machine | runs | latest commit | latest median | vs previous "
         "| vs best | run-to-run spread | steps |\n|---|---|---|---|---|---|---|---|---|---|\n");
  int slower_now = 0;
  for (int i = 0; i < h.n; i++)
    print_series(&h.s[i]);
  printf("\n");
  for (int i = 0; i < h.n; i++) {
    print_steps(&h.s[i]);
    slower_now |= history_slower_now(&h.s[i], since);
  }
  rc = EXIT_OK;
  interrupt_install(); /* gnuplot is stopped and the temp folder removed on a stop */
  if (plots && history_plots(plots, &h)) rc = EXIT_RUNTIME;
  if (mlpb_stop_signal) {
    rc = interrupt_exit_code();
    goto done;
  }
  if (fail_on_step && slower_now) {
    if (since)
      printf("\nhistory: a series' latest runs are past a step toward slower, within its last %d "
             "runs\n",
             since);
    else
      printf("\nhistory: a series' latest runs are past a step toward slower\n");
    rc = EXIT_CHECK;
  }
done:
  history_free(&h);
  return rc;
}
