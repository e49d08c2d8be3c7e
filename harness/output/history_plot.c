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

/* The y range of the plot's data (already in the plot's unit): padded, never empty (one run,
 * or runs all alike, have lo == hi, which gnuplot refuses); a log axis only when it spans a
 * decade. */
static void y_range(FILE *g, double lo, double hi) {
  if (!(lo > 0)) return; /* no data: gnuplot's own range */
  if (hi / lo > 10) {
    fprintf(g, "set logscale y\nset yrange [%g:%g]\n", lo / 1.2, hi * 1.2);
    return;
  }
  double pad = (hi - lo) * 0.1;
  if (pad < lo * 0.02) pad = lo * 0.02;
  fprintf(g, "set yrange [%.9g:%.9g]\nset format y '%%g'\n", lo - pad, hi + pad);
}

/* One colour per backend in every plot (a hash of its name into gnuplot's first 8), so blas
 * is the same colour in the toy plot as in the classifier's. */
static int backend_colour(const char *name) {
  unsigned h = 2166136261u;
  for (const unsigned char *c = (const unsigned char *)name; *c; c++)
    h = (h ^ *c) * 16777619u;
  return 1 + (int)(h % 8);
}

void history_series_label(const history *h, const hist_series *s, char *out, size_t len) {
  int threads = 0, kernel = 0, train = 0, batch = 0, sampling = 0, data = 0;
  for (int i = 0; i < h->n; i++) {
    const hist_series *o = &h->s[i];
    if (!same_plot(o, s) || strcmp(o->backend, s->backend)) continue;
    threads |= o->machine.threads != s->machine.threads;
    kernel |= strcmp(o->machine.kernel, s->machine.kernel) != 0;
    train |= o->id.n_train != s->id.n_train;
    batch |= o->id.batch != s->id.batch;
    sampling |= strcmp(o->id.sampling, s->id.sampling) != 0 || o->id.zero_grad != s->id.zero_grad;
    data |= o->id.data_hash != s->id.data_hash;
  }
  int n = snprintf(out, len, "%s", s->backend);
#define ADD(...)                                                                                   \
  if (n >= 0 && (size_t)n < len) n += snprintf(out + n, len - n, __VA_ARGS__)
  if (threads) ADD(", %d thread%s", s->machine.threads, s->machine.threads == 1 ? "" : "s");
  if (kernel) ADD(", %s", s->machine.kernel[0] ? s->machine.kernel : "no BLAS");
  if (train) ADD(", %d train", s->id.n_train);
  if (batch) ADD(", batch %d", s->id.batch);
  if (sampling) ADD(", %s%s", s->id.sampling, s->id.zero_grad ? "" : " no zero_grad");
  if (data) ADD(", data %.8llx", (unsigned long long)(s->id.data_hash >> 32));
#undef ADD
}

/* a run's place on the x axis: its commit's date (the series' order), then its own date, so
 * runs of one commit stand side by side */
typedef struct {
  double when;
  const char *date;
} run_at;

static int cmp_run(const void *a, const void *b) {
  const run_at *x = a, *y = b;
  return x->when < y->when ? -1 : x->when > y->when ? 1 : strcmp(x->date, y->date);
}

/* x of a run: its place among every run of the plot, oldest first, so the series share one
 * axis and each tick names the runs there (not the first series' commits) */
static int x_of(const run_at *all, int n, const hist_point *p) {
  run_at key = {p->when, p->date};
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cmp_run(&all[mid], &key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void trend_plot(plot_job *j, const history *h, int first, const int *done) {
  const hist_series *s0 = &h->s[first];
  char name[200], dat[4096], title[768];
  FILE *g, *f;
  history_plot_name(s0, name, sizeof name);
  /* the runs of every series in the plot, ordered: one x axis */
  int n_all = 0;
  for (int i = first; i < h->n; i++)
    if (!done[i] && same_plot(&h->s[i], s0)) n_all += h->s[i].n;
  run_at *whens = malloc((size_t)(n_all ? n_all : 1) * sizeof *whens);
  if (!whens) return;
  int m = 0;
  double lo = 0, hi = 0; /* the data's range: the unit, and a log axis when it spans a decade */
  for (int i = first; i < h->n; i++)
    for (int k = 0; !done[i] && same_plot(&h->s[i], s0) && k < h->s[i].n; k++) {
      const hist_point *p = &h->s[i].pts[k];
      whens[m++] = (run_at){p->when, p->date};
      lo = lo == 0 || p->q1 < lo ? p->q1 : lo;
      hi = p->q3 > hi ? p->q3 : hi;
    }
  qsort(whens, (size_t)n_all, sizeof *whens, cmp_run);
  int n_x = 0;
  for (int i = 0; i < n_all; i++)
    if (n_x == 0 || cmp_run(&whens[i], &whens[n_x - 1])) whens[n_x++] = whens[i];
  /* seconds, milliseconds or microseconds: whichever keeps the ticks readable (the toy net's
   * epochs in seconds gave one tick, 0.0000010) */
  double scale = hi >= 1 ? 1 : hi >= 1e-3 ? 1e3 : 1e6;
  const char *unit = scale == 1 ? "seconds" : scale == 1e3 ? "milliseconds" : "microseconds";
  if (job_begin(j, name, 1200, 520, &g, &f, dat, sizeof dat)) {
    free(whens);
    return;
  }
  snprintf(title, sizeof title,
           "%s %d-%d-%d on %s, %d cores (latest host %s): median %s per epoch per run, "
           "bars: IQR, dashed: steps",
           s0->workload, s0->id.n_in, s0->id.n_hidden, s0->id.n_out, s0->machine.cpu,
           s0->machine.cores, s0->host, unit);
  fprintf(g, "set title ");
  gp_quote(g, title);
  fprintf(g,
          "\nset xlabel 'run (commit), oldest first'\nset ylabel '%s per epoch'\n"
          "set grid\nset key outside right top\nset xtics rotate by 60 right font ',8'\n",
          unit);
  y_range(g, lo * scale, hi * scale);
  for (int i = first; i < h->n; i++) {
    const hist_series *s = &h->s[i];
    if (done[i] || !same_plot(s, s0)) continue;
    for (int k = 0; k < s->n; k++) {
      fprintf(f, "%d %g %g %g ", x_of(whens, n_x, &s->pts[k]), s->pts[k].median * scale,
              s->pts[k].q1 * scale, s->pts[k].q3 * scale);
      char c[16];
      snprintf(c, sizeof c, "%.7s", s->pts[k].commit);
      gp_data_str(f, c);
      fprintf(f, "\n");
    }
    fprintf(f, "\n\n");
    for (int k = 0; k < s->n_steps; k++) {
      double x = x_of(whens, n_x, &s->pts[s->steps[k]]) - 0.5;
      fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 2 lc %d\n", x, x,
              backend_colour(s->backend));
    }
  }
  fprintf(g, "set xrange [-0.5:%g]\nplot ", n_x - 0.5);
  int b = 0;
  for (int i = first; i < h->n; i++) {
    const hist_series *s = &h->s[i];
    if (done[i] || !same_plot(s, s0)) continue;
    /* same backend, same colour: its series told apart by the point and the label */
    int twin = 0;
    for (int k = first; k < i; k++)
      twin += !done[k] && same_plot(&h->s[k], s0) && strcmp(h->s[k].backend, s->backend) == 0;
    char label[256];
    history_series_label(h, s, label, sizeof label);
    fprintf(g, "%s", b ? ", " : "");
    gp_quote(g, dat);
    fprintf(g, " index %d using 1:2:3:4:xtic(5) with yerrorlines lw 2 lc %d pt %d dt %d title ", b,
            backend_colour(s->backend), 7 + twin, 1 + twin);
    gp_quote(g, label);
    b++;
  }
  fprintf(g, "\n");
  free(whens);
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
  return j.failed ? -1 : 0;
}
