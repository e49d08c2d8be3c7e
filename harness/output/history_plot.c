#define _GNU_SOURCE
#include "history_plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
#include "../sys/plot_text.h"
#include "../sys/term_text.h"
#include "../sys/tmpdir.h"
#include "plot_job.h"
#include "plots.h"

/* Series i and k share a plot when workload and machine (its host part: every backend of it)
 * agree: the key the plot's file is named from, so two plots never share a file. */
static int same_plot(const hist_series *a, const hist_series *b) {
  return strcmp(a->workload, b->workload) == 0 &&
         machine_id_hash(&a->machine) == machine_id_hash(&b->machine);
}

void history_plot_name(const hist_series *s, char *out, size_t len) {
  char safe_w[32], safe_cpu[48];
  safe_name(safe_w, sizeof safe_w, s->workload);
  safe_name(safe_cpu, sizeof safe_cpu, s->machine.cpu[0] ? s->machine.cpu : "cpu");
  snprintf(out, len, "history-%s-%s-%012llx", safe_w, safe_cpu,
           (unsigned long long)(machine_id_hash(&s->machine) >> 16));
}

/* The y range of the plot's data: padded, never empty (one run, or runs all alike, have
 * lo == hi, which gnuplot refuses); a log axis only when it spans a decade. */
static void y_range(FILE *g, double lo, double hi) {
  if (!(lo > 0)) return; /* no data: gnuplot's own range */
  if (hi / lo > 10) {
    fprintf(g, "set logscale y\nset yrange [%g:%g]\n", lo / 1.2, hi * 1.2);
    return;
  }
  double pad = (hi - lo) * 0.1;
  if (pad < lo * 0.02) pad = lo * 0.02;
  fprintf(g, "set yrange [%.9g:%.9g]\n", lo - pad, hi + pad);
}

static void trend_plot(plot_job *j, const history *h, int first, const int *done) {
  const hist_series *s0 = &h->s[first];
  char name[200], dat[4096], title[768];
  FILE *g, *f;
  history_plot_name(s0, name, sizeof name);
  if (job_begin(j, name, 1200, 520, &g, &f, dat, sizeof dat)) return;
  snprintf(title, sizeof title,
           "%s %d-%d-%d on %s, %d cores (latest host %s): median seconds per epoch per run, "
           "bars: IQR, dashed: steps",
           s0->workload, s0->id.n_in, s0->id.n_hidden, s0->id.n_out, s0->machine.cpu,
           s0->machine.cores, s0->host);
  fprintf(g, "set title ");
  gp_quote(g, title);
  double lo = 0, hi = 0; /* the data's range: a log axis only when it spans a decade */
  for (int i = first; i < h->n; i++)
    for (int k = 0; !done[i] && same_plot(&h->s[i], s0) && k < h->s[i].n; k++) {
      const hist_point *p = &h->s[i].pts[k];
      lo = lo == 0 || p->q1 < lo ? p->q1 : lo;
      hi = p->q3 > hi ? p->q3 : hi;
    }
  fprintf(g, "\nset xlabel 'run (commit), oldest first'\nset ylabel 'seconds per epoch'\n"
             "set grid\nset key outside right top\nset xtics rotate by 60 right font ',8'\n");
  y_range(g, lo, hi);
  int block = 0, xmax = 0;
  for (int i = first; i < h->n; i++) {
    const hist_series *s = &h->s[i];
    if (done[i] || !same_plot(s, s0)) continue;
    for (int k = 0; k < s->n; k++) {
      fprintf(f, "%d %g %g %g ", k, s->pts[k].median, s->pts[k].q1, s->pts[k].q3);
      char c[16];
      snprintf(c, sizeof c, "%.7s", s->pts[k].commit);
      gp_data_str(f, c);
      fprintf(f, "\n");
    }
    fprintf(f, "\n\n");
    xmax = s->n > xmax ? s->n : xmax;
    for (int k = 0; k < s->n_steps; k++)
      fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 2 lc %d\n", s->steps[k] - 0.5,
              s->steps[k] - 0.5, block + 1);
    block++;
  }
  fprintf(g, "set xrange [-0.5:%g]\nplot ", xmax - 0.5);
  int b = 0;
  for (int i = first; i < h->n; i++) {
    const hist_series *s = &h->s[i];
    if (done[i] || !same_plot(s, s0)) continue;
    fprintf(g, "%s", b ? ", " : "");
    gp_quote(g, dat);
    fprintf(g, " index %d using 1:2:3:4:xtic(5) with yerrorlines lw 2 lc %d title ", b, b + 1);
    gp_quote(g, s->backend);
    b++;
  }
  fprintf(g, "\n");
  job_end(j, name, g, f, "history trend");
}

int history_plots(const char *dir, const history *h) {
  char err[4096];
  if (!plots_have_gnuplot()) {
    fprintf(stderr, "mlpbench: plots skipped: gnuplot not found (apt-get install gnuplot-nox)\n");
    return 0;
  }
  if (outfile_check_dir(dir, err, sizeof err)) {
    char shown[4096];
    fprintf(stderr, "mlpbench history: %s\n", term_text(shown, sizeof shown, err));
    return -1;
  }
  char tmp[PATH_MAX - 64], terr[256] = "out of memory";
  int *done = calloc((size_t)(h->n ? h->n : 1), sizeof *done);
  if (!done || tmpdir_make(tmp, sizeof tmp, "plot", terr, sizeof terr)) {
    fprintf(stderr, "mlpbench: plots not drawn: %s\n", TERM_TEXT(terr));
    free(done);
    return -1;
  }
  plot_job j = {dir, tmp, 0};
  for (int i = 0; i < h->n; i++) {
    if (done[i]) continue;
    trend_plot(&j, h, i, done);
    for (int k = i; k < h->n; k++)
      if (same_plot(&h->s[k], &h->s[i])) done[k] = 1;
  }
  free(done);
  if (tmpdir_remove(tmp) != 0) fprintf(stderr, "mlpbench: could not remove %s\n", TERM_TEXT(tmp));
  if (j.failed) return -1;
  char shown[4096];
  fprintf(stderr, "mlpbench: history plots written to %s/\n", term_text(shown, sizeof shown, dir));
  return 0;
}
