#define _GNU_SOURCE
#include "plots.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../workloads/io/outfile.h"
#include "../../workloads/io/png_write.h"
#include "../sys/interrupt.h"
#include "../sys/plot_text.h"
#include "../sys/proc_spawn.h"
#include "../sys/term_text.h"
#include "../sys/tmpdir.h"
#include "plot_job.h"

/* How plots are made safely (see plot_text.h for the quoting rule): every script, data file
 * and PNG is first written inside a private mkdtemp folder, so no user path ever appears in
 * a script; a PNG that gnuplot finished (exit 0, PNG signature, IEND chunk) is then copied
 * into the user's folder through outfile (mkstemp, fsync, rename). A failure leaves the old
 * plot in place and is reported. */

int plots_check_dir(const char *dir, char *err, size_t len) {
  return outfile_check_dir(dir, err, len);
}

int plots_have_gnuplot(void) {
  const char *path = getenv("PATH");
  char exe[PATH_MAX], err[8];
  char *buf = strdup(path ? path : "/usr/bin:/bin"); /* the whole PATH, however long */
  int found = 0;
  for (char *save = NULL, *d = buf ? strtok_r(buf, ":", &save) : NULL; d && !found;
       d = strtok_r(NULL, ":", &save)) /* a folder too long to join holds no gnuplot we run */
    found =
        path_join(exe, sizeof exe, d, "gnuplot", err, sizeof err) == 0 && access(exe, X_OK) == 0;
  free(buf);
  return found;
}

/* Seconds to a display unit chosen from the fastest time. */
static double unit_scale(double fastest, const char **unit) {
  if (fastest < 1e-3) {
    *unit = "us";
    return 1e6;
  }
  if (fastest < 1.0) {
    *unit = "ms";
    return 1e3;
  }
  *unit = "s";
  return 1.0;
}

/* A time as a label reads it: its own unit, a plain number of three significant digits
 * ("1.05 s", "12.4 ms", "980 us"), never an exponent. */
static const char *fmt_time(char *buf, size_t len, double seconds) {
  const char *unit;
  double v = seconds * unit_scale(seconds, &unit);
  if (seconds < 1e-6) v = seconds * 1e9, unit = "ns";
  snprintf(buf, len, v >= 99.95 ? "%.0f %s" : v >= 9.995 ? "%.1f %s" : "%.2f %s", v, unit);
  return buf;
}

/* (a) median per backend as horizontal bars, fastest on top, min-max whiskers, labels. */
static void plot_times(plot_job *j, const report *rep, const report_workload *w,
                       const char *wname) {
  char name[64], dat[PATH_MAX];
  double lo = INFINITY, hi = 0, fastest = 0;
  int n = 0;
  FILE *f, *g;
  for (int i = 0; i < w->n_rows; i++) {
    const report_row *r = &w->rows[i];
    if (!r->ran) continue;
    if (fastest == 0 && r->gc.pass) fastest = r->st.median;
    lo = fmin(lo, r->st.min);
    hi = fmax(hi, r->st.max);
    n++;
  }
  if (!n) return;
  if (fastest == 0) fastest = w->rows[0].st.median;
  if (!(fastest > 0) || !(lo > 0)) return; /* nothing positive to draw on a time axis */
  const char *unit;
  double k = unit_scale(fastest, &unit);
  int logx = hi / lo > 20;
  snprintf(name, sizeof name, "%s-epoch-time", wname);
  if (job_begin(j, name, 900, 180 + 60 * n, &g, &f, dat, sizeof dat)) return;
  int y = n;
  for (int i = 0; i < w->n_rows; i++) { /* top row = fastest */
    const report_row *r = &w->rows[i];
    char label[96];
    if (!r->ran) continue;
    char t[32];
    snprintf(label, sizeof label, "%s (%.2fx)%s%s", fmt_time(t, sizeof t, r->st.median),
             r->st.median / fastest, r->gc.pass ? "" : "  gradcheck FAILED",
             r->disturbed ? "  (disturbed)" : "");
    fprintf(f, "%d ", y--);
    gp_data_str(f, r->backend);
    fprintf(f, " %g %g %g ", r->st.median * k, r->st.min * k, r->st.max * k);
    gp_data_str(f, label);
    fprintf(f, " %d\n", r->gc.pass ? 1 : 2);
  }
  double xmin = logx ? lo * k / 2 : 0, xmax = logx ? hi * k * 8 : hi * k * 1.45;
  char title[1024];
  snprintf(title, sizeof title, "%s %d-%d-%d on %s: median time per epoch (whiskers: min-max)",
           w->name, w->spec.n_in, w->spec.n_hidden, w->spec.n_out,
           w->data_title[0] ? w->data_title : w->dataset);
  fprintf(g, "set title ");
  gp_quote(g, title);
  fprintf(g, " . \"\\n\" . ");
  int disturbed = 0;
  for (int i = 0; i < w->n_rows; i++)
    disturbed += w->rows[i].ran && w->rows[i].disturbed;
  snprintf(title, sizeof title, "%s, %s%s", rep->ctx.cpu, rep->ctx.date,
           disturbed ? " (rows marked disturbed: timed on a busy machine, or their figures "
                       "contradict each other)"
                     : "");
  gp_quote(g, title);
  fprintf(g,
          "\nset xlabel 'time per epoch (%s)%s'\n"
          "set yrange [0.4:%d.6]\nset xrange [%g:%g]\n%s\nset format x '%%g'\n"
          "set grid xtics\nunset key\nset style fill solid 0.6 border -1\n"
          "set linetype 1 lc rgb '#4477aa'\nset linetype 2 lc rgb '#cc3311'\nplot ",
          unit, logx ? ", log scale" : "", n, xmin, xmax, logx ? "set logscale x" : "");
  gp_quote(g, dat);
  fprintf(g,
          " using 3:1:(%g):3:($1-0.3):($1+0.3):7:ytic(2) with boxxyerror lc variable, "
          "'' using 3:1:4:5 with xerrorbars pt -1 lc rgb 'black', "
          "'' using 5:1:6 with labels left offset 1,0\n",
          xmin);
  job_end(j, name, g, f, "timing bars");
}

/* (b) time per epoch against batch size and hidden width, one line per backend, log-log.
 * Each panel's x axis spans its points (gnuplot's log autoscale would run to the next power
 * of ten: 10000 for points up to 1024), ticked at the values swept; the y axis in the unit
 * the fastest point reads best in, plain numbers. */
static void plot_sweep(plot_job *j, const report_workload *w, const char *wname) {
  if (!w->n_sweep) return;
  char name[64], dat[PATH_MAX], title[512];
  FILE *f, *g;
  const char *params[2] = {"batch", "hidden"};
  double fastest = INFINITY;
  for (int i = 0; i < w->n_sweep; i++)
    if (w->sweep[i].seconds > 0) fastest = fmin(fastest, w->sweep[i].seconds);
  if (!isfinite(fastest)) return; /* nothing positive to draw on a log axis */
  const char *unit;
  double k = unit_scale(fastest, &unit);
  snprintf(name, sizeof name, "%s-scaling", wname);
  if (job_begin(j, name, 1200, 500, &g, &f, dat, sizeof dat)) return;
  snprintf(title, sizeof title,
           "%s %d-%d-%d on %s: time per epoch against batch size and hidden width", w->name,
           w->spec.n_in, w->spec.n_hidden, w->spec.n_out, w->dataset);
  fprintf(g, "set multiplot layout 1,2 title ");
  gp_quote(g, title);
  fprintf(g, " . \"\\n\" . ");
  gp_quote(g, "a point: the median of 5 runs of many steps (batches drawn from the training "
              "split, timed as bench times epochs), scaled to an epoch");
  fprintf(g,
          "\nset logscale xy\nset grid\nset key top left\nset format y '%%g'\n"
          "set ylabel 'time per epoch (%s)'\n",
          unit);
  int block = 0;
  for (int p = 0; p < 2; p++) {
    int lo = 0, hi = 0;
    for (int i = 0; i < w->n_sweep; i++)
      if (strcmp(w->sweep[i].param, params[p]) == 0 && w->sweep[i].value > 0) {
        lo = lo && lo < w->sweep[i].value ? lo : w->sweep[i].value;
        hi = hi > w->sweep[i].value ? hi : w->sweep[i].value;
      }
    if (p == 0)
      fprintf(g, "set xlabel 'batch size (hidden %d)'\n", w->spec.n_hidden);
    else
      fprintf(g, "set xlabel 'hidden width (batch %d)'\n", w->batch);
    if (hi > 0) fprintf(g, "set xrange [%g:%g]\n", lo / 1.3, hi * 1.3);
    fprintf(g, "plot ");
    int first = 1;
    for (int r = 0; r < w->n_rows; r++) {
      int any = 0;
      for (int i = 0; i < w->n_sweep; i++)
        if (strcmp(w->sweep[i].param, params[p]) == 0 &&
            strcmp(w->sweep[i].backend, w->rows[r].backend) == 0 && w->sweep[i].value > 0 &&
            w->sweep[i].seconds > 0) {
          fprintf(f, "%d %g\n", w->sweep[i].value, w->sweep[i].seconds * k);
          any = 1;
        }
      if (!any) continue;
      fprintf(f, "\n\n");
      fprintf(g, "%s", first ? "" : ", ");
      gp_quote(g, dat);
      fprintf(g, " index %d using 1:2:xtic(1) with linespoints lw 2 title ", block++);
      gp_quote(g, w->rows[r].backend);
      first = 0;
    }
    if (first) fprintf(g, "NaN notitle");
    fprintf(g, "\n");
  }
  fprintf(g, "unset multiplot\n");
  job_end(j, name, g, f, "scaling");
}

static int has_curves(const report_workload *w) {
  for (int r = 0; r < w->n_rows; r++)
    for (int e = 0; w->rows[r].ran && e < w->rows[r].n_epochs; e++)
      if (isfinite(w->rows[r].epoch_val_acc[e])) return 1;
  return 0;
}

/* (c) loss and validation accuracy per epoch, one line per backend. */
static void plot_curves(plot_job *j, const report_workload *w, const char *wname) {
  if (!has_curves(w)) return;
  char name[64], dat[PATH_MAX], title[512];
  FILE *f, *g;
  snprintf(name, sizeof name, "%s-curves", wname);
  if (job_begin(j, name, 1200, 500, &g, &f, dat, sizeof dat)) return;
  for (int r = 0; r < w->n_rows; r++) {
    const report_row *row = &w->rows[r];
    if (!row->ran || !row->n_epochs) continue;
    for (int e = 0; e < row->n_epochs; e++)
      fprintf(f, "%d %.8g %.8g\n", e + 1, row->epoch_loss[e], row->epoch_val_acc[e]);
    fprintf(f, "\n\n");
  }
  snprintf(title, sizeof title,
           "%s on %s: training curves (same weights, same batches: lines should coincide)", w->name,
           w->dataset);
  fprintf(g, "set multiplot layout 1,2 title ");
  gp_quote(g, title);
  fprintf(g, "\nset grid\nset xtics 1\nset xlabel 'epoch'\nset key top right\n"
             "set ylabel 'mean training loss'\n");
  for (int pass = 0; pass < 2; pass++) {
    if (pass) fprintf(g, "set key bottom right\nset ylabel 'validation accuracy'\n");
    fprintf(g, "plot ");
    int k = 0;
    for (int r = 0; r < w->n_rows; r++) {
      const report_row *row = &w->rows[r];
      if (!row->ran || !row->n_epochs) continue;
      fprintf(g, "%s", k ? ", " : "");
      gp_quote(g, dat);
      fprintf(g, " index %d using 1:%d with linespoints lw 2 dt %d title ", k, pass ? 3 : 2, k + 1);
      gp_quote(g, row->backend);
      k++;
    }
    fprintf(g, "\n");
  }
  fprintf(g, "unset multiplot\n");
  job_end(j, name, g, f, "training curves");
}

/* What a row ran on, for its bar: its library's name and version (the first two words of
 * the library string, as "OpenBLAS 0.3.21"), kernel and threads; a peer's framework and
 * version ("JAX 0.10.2", without the parenthesis after it) and threads; or, for a row with
 * neither (naive, a device), its details up to the first ';' or ','. At most ON_MAX bytes, cut
 * on a character boundary: a label longer than the bars pushed the plot off the picture. */
#define ON_MAX 48
static void row_runs_on(char *buf, size_t len, const report_row *r) {
  char lib[64] = "";
  int n = 0;
  if (r->library[0] || r->framework[0]) {
    const char *src = r->library[0] ? r->library : r->framework;
    int words = 0, k = 0;
    for (const char *c = src; *c && k < (int)sizeof lib - 1; c++) {
      if ((*c == ' ' && ++words == 2) || (*c == ' ' && c[1] == '(')) break;
      lib[k++] = *c;
    }
    lib[k] = '\0';
    n = snprintf(buf, len, "%s", lib);
    if (r->kernel[0] && n >= 0 && (size_t)n < len)
      n += snprintf(buf + n, len - n, ", %s", r->kernel);
    if (r->threads > 0 && n >= 0 && (size_t)n < len)
      snprintf(buf + n, len - n, ", %d thread%s", r->threads, r->threads == 1 ? "" : "s");
  } else {
    snprintf(buf, len, "%.*s", (int)strcspn(r->details, ";,"), r->details);
  }
  size_t cut = strlen(buf);
  if (cut > ON_MAX && len > ON_MAX) {
    cut = ON_MAX - 3;
    while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80) /* not inside a character */
      cut--;
    snprintf(buf + cut, len - cut, "...");
  }
}

/* (e) one ranking: backends and peers in one list by median epoch, fastest on top, each bar
 * labelled with what it ran on, and two reference lines: the step floor (the lowest any row
 * measured: the products and the optimizer's compulsory bytes) and the machine peak as an
 * epoch (the epoch's GEMM FLOPs at the machine's measured FP32 rate). */
static void plot_ranking(plot_job *j, const report *rep, const report_workload *w,
                         const char *wname) {
  char name[64], dat[PATH_MAX], floor_by[24] = "";
  double lo = INFINITY, hi = 0, fastest = 0, floor = INFINITY, peak = NAN;
  int n = 0;
  FILE *f, *g;
  for (int i = 0; i < w->n_rows; i++) {
    const report_row *r = &w->rows[i];
    if (!r->ran || !(r->st.median > 0)) continue;
    if (fastest == 0 && r->gc.pass) fastest = r->st.median;
    lo = fmin(lo, r->st.median);
    hi = fmax(hi, r->st.median);
    if (isfinite(r->step_floor) && r->step_floor > 0 && r->step_floor < floor) {
      floor = r->step_floor;
      snprintf(floor_by, sizeof floor_by, "%s", r->backend);
    }
    n++;
  }
  if (!n) return;
  if (fastest == 0) fastest = lo;
  if (isfinite(rep->ctx.peak_gflops) && rep->ctx.peak_gflops > 0 && w->gflop_per_epoch > 0)
    peak = w->gflop_per_epoch / rep->ctx.peak_gflops;
  double ref_lo = fmin(lo, fmin(isfinite(floor) ? floor : lo, isfinite(peak) ? peak : lo));
  const char *unit;
  double k = unit_scale(fastest, &unit);
  int logx = hi / ref_lo > 20;
  snprintf(name, sizeof name, "%s-ranking", wname);
  if (job_begin(j, name, 1100, 280 + 50 * n, &g, &f, dat, sizeof dat)) return;
  int y = n, rank = 0;
  for (int i = 0; i < w->n_rows; i++) { /* the rows are ranked already: passed, fastest first */
    const report_row *r = &w->rows[i];
    char on[160], label[256], value[96];
    if (!r->ran || !(r->st.median > 0)) continue;
    row_runs_on(on, sizeof on, r);
    if (r->gc.pass)
      snprintf(label, sizeof label, "%d. %s%s%s%s", ++rank, r->backend, on[0] ? " (" : "", on,
               on[0] ? ")" : "");
    else
      snprintf(label, sizeof label, "%s%s%s%s, unranked", r->backend, on[0] ? " (" : "", on,
               on[0] ? ")" : "");
    char t[32];
    snprintf(value, sizeof value, "%s (%.2fx)%s", fmt_time(t, sizeof t, r->st.median),
             r->st.median / fastest, r->gc.pass ? "" : "  gradcheck FAILED");
    fprintf(f, "%d ", y--);
    gp_data_str(f, label);
    fprintf(f, " %g ", r->st.median * k);
    gp_data_str(f, value);
    fprintf(f, " %d\n", r->gc.pass ? 1 : 2);
  }
  double xmin = logx ? ref_lo * k / 2 : 0, xmax = logx ? hi * k * 8 : hi * k * 1.35;
  char title[1024];
  snprintf(title, sizeof title, "%s %d-%d-%d on %s: backends and peers ranked by median epoch",
           w->name, w->spec.n_in, w->spec.n_hidden, w->spec.n_out,
           w->data_title[0] ? w->data_title : w->dataset);
  fprintf(g, "set title ");
  gp_quote(g, title);
  fprintf(g, " . \"\\n\" . ");
  snprintf(title, sizeof title, "%s, %s", rep->ctx.cpu, rep->ctx.date);
  gp_quote(g, title);
  fprintf(g,
          "\nset xlabel 'median time per epoch (%s)%s'\n"
          "set yrange [0.4:%d.6]\nset xrange [%g:%g]\n%s\nset format x '%%g'\n"
          "set grid xtics\nset key below vertical left Left reverse\nset style fill solid 0.6 "
          "border -1\n"
          "set linetype 1 lc rgb '#4477aa'\nset linetype 2 lc rgb '#cc3311'\n",
          unit, logx ? ", log scale" : "", n, xmin, xmax, logx ? "set logscale x" : "");
  /* the reference lines: drawn as arrows, named in the key by an empty series each */
  const double refs[2] = {floor, peak};
  const char *colors[2] = {"#228833", "#aa3377"};
  char keys[2][160] = {"", ""};
  for (int i = 0; i < 2; i++) {
    if (!isfinite(refs[i])) continue;
    if (i == 0)
      snprintf(keys[i], sizeof keys[i], "step floor: %.3g %s (%s: products + optimizer traffic)",
               refs[i] * k, unit, floor_by);
    else
      snprintf(keys[i], sizeof keys[i],
               "machine peak as an epoch: %.3g %s (%.4g GFLOP at %.1f GFLOP/s)", refs[i] * k, unit,
               w->gflop_per_epoch, rep->ctx.peak_gflops);
    fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead front lw 2 dt 2 lc rgb '%s'\n",
            refs[i] * k, refs[i] * k, colors[i]);
  }
  fprintf(g, "plot ");
  gp_quote(g, dat);
  fprintf(g,
          " using 3:1:(%g):3:($1-0.3):($1+0.3):5:ytic(2) with boxxyerror lc variable notitle, "
          "'' using 3:1:4 with labels left offset 1,0 notitle",
          xmin);
  for (int i = 0; i < 2; i++) {
    if (!keys[i][0]) continue;
    fprintf(g, ", NaN with lines lw 2 dt 2 lc rgb '%s' title ", colors[i]);
    gp_quote(g, keys[i]);
  }
  fprintf(g, "\n");
  job_end(j, name, g, f, "ranking");
}

void plots_say(const char *what, const char *dir, int failed) {
  if (mlpb_stop_signal) return; /* the stop says what was written: nothing */
  if (failed)
    fprintf(stderr, "mlpbench: some %s were not drawn; the previous ones in %s/ are kept\n", what,
            TERM_TEXT(dir));
  else if (plots_have_gnuplot())
    fprintf(stderr, "mlpbench: %s written to %s/\n", what, TERM_TEXT(dir));
}

int plots_draw(const char *dir, const report *r) {
  if (!plots_have_gnuplot()) {
    fprintf(stderr, "mlpbench: plots skipped: gnuplot not found (apt-get install gnuplot-nox)\n");
    return 0;
  }
  char tmp[PATH_MAX - 64], terr[256];
  if (tmpdir_make(tmp, sizeof tmp, "plot", terr, sizeof terr)) {
    fprintf(stderr, "mlpbench: plots not drawn: %s\n", TERM_TEXT(terr));
    return -1;
  }
  plot_job j = {dir, tmp, 0};
  for (int i = 0; i < r->n_wl; i++) {
    const report_workload *w = &r->wl[i];
    char wname[32];
    safe_name(wname, sizeof wname, w->name);
    plot_times(&j, r, w, wname);
    plot_ranking(&j, r, w, wname);
    plot_sweep(&j, w, wname);
    plot_curves(&j, w, wname);
  }
  if (tmpdir_remove(tmp) != 0) fprintf(stderr, "mlpbench: could not remove %s\n", TERM_TEXT(tmp));
  return j.failed ? -1 : 0;
}

/* ---- (d) the montage, with a 3x5 pixel font for its labels and its header ---- */

/* Each glyph: 5 rows of 3 pixels, top row first. Text is drawn as pixels, so a hostile name
 * from a results file can only show as glyphs: what the font lacks is drawn as '?'. */
static const char *const glyphs[10] = {
    "111101101101111", "010110010010111", "111001111100111", "111001111001111", "101101111001001",
    "111100111001111", "111100111101111", "111001001001001", "111101111101111", "111101111001111"};
static const char *const letters[26] = {
    "010101111101101", "110101110101110", "011100100100011", "110101101101110", "111100110100111",
    "111100110100100", "011100101101011", "101101111101101", "111010010010111", "001001001101010",
    "101101110101101", "100100100100111", "101111111101101", "110101101101101", "010101101101010",
    "110101110100100", "010101101110011", "110101110101101", "011100010001110", "111010010010010",
    "101101101101111", "101101101101010", "101101111111101", "101101010101101", "101101010010010",
    "111001010100111"};
static const struct {
  char c;
  const char *bits;
} marks[] = {{' ', "000000000000000"}, {'-', "000000111000000"}, {'_', "000000000000111"},
             {':', "000010000010000"}, {'.', "000000000000010"}, {',', "000000000010100"},
             {'(', "001010010010001"}, {')', "100010010010100"}, {'/', "001001010100100"},
             {'?', "110001010000010"}};

static const char *glyph_of(unsigned char c) {
  if (c >= '0' && c <= '9') return glyphs[c - '0'];
  if (c >= 'a' && c <= 'z') return letters[c - 'a'];
  if (c >= 'A' && c <= 'Z') return letters[c - 'A'];
  for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
    if (marks[i].c == (char)c) return marks[i].bits;
  return marks[sizeof marks / sizeof marks[0] - 1].bits; /* '?' */
}

static void put(uint8_t *img, int W, int x, int y, const uint8_t rgb[3]) {
  memcpy(img + ((size_t)y * W + x) * 3, rgb, 3);
}

/* One glyph, each pixel a scale x scale square, clipped to the image. */
static void draw_glyph(uint8_t *img, int W, int H, int x0, int y0, const char *g, int scale,
                       const uint8_t rgb[3]) {
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 3; x++)
      if (g[y * 3 + x] == '1')
        for (int s = 0; s < scale * scale; s++) {
          int px = x0 + scale * x + s % scale, py = y0 + scale * y + s / scale;
          if (px >= 0 && px < W && py >= 0 && py < H) put(img, W, px, py, rgb);
        }
}

static void draw_digit(uint8_t *img, int W, int H, int x0, int y0, int d, const uint8_t rgb[3]) {
  draw_glyph(img, W, H, x0, y0, glyphs[d], 3, rgb);
}

/* A line of text; a UTF-8 character beyond ASCII is one '?'. Returns the x after it. */
static int draw_text(uint8_t *img, int W, int H, int x, int y, const char *s, int scale,
                     const uint8_t rgb[3]) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p & 0xC0) == 0x80) continue; /* a continuation byte: its character is drawn */
    draw_glyph(img, W, H, x, y, glyph_of(*p < 0x80 ? *p : '?'), scale, rgb);
    x += 4 * scale;
  }
  return x;
}

int plots_montage(const char *dir, const report_workload *w) {
  enum { GRID = 10, CELL_W = 64, CELL_H = 88, HEAD = 44 };
  const report_montage *m = &w->montage;
  const int n = m->n, side = m->side;
  if (n < 1 || side != 28) return 0; /* the layout assumes 28x28 images */
  const int W = GRID * CELL_W, H = HEAD + ((n + GRID - 1) / GRID) * CELL_H;
  uint8_t *img = calloc((size_t)W * H * 3, 1);
  char path[PATH_MAX], err[PATH_MAX + 200];
  int rc = -1;
  if (!img) goto done;
  static const uint8_t bg[3] = {40, 40, 40}, red[3] = {230, 40, 30}, green[3] = {60, 200, 80},
                       gray[3] = {200, 200, 200}, white[3] = {255, 255, 255};
  for (size_t i = 0; i < (size_t)W * H; i++)
    memcpy(img + i * 3, bg, 3);
  /* whose predictions these are, and how to read a cell */
  char who[sizeof m->backend + 1];
  snprintf(who, sizeof who, "%s", m->backend[0] ? m->backend : "?");
  int x = draw_text(img, W, H, 6, 5, "predicted by ", 3, white);
  draw_text(img, W, H, x, 5, who, 3, white);
  x = draw_text(img, W, H, 6, 28, "under each digit: true label ", 2, gray);
  x = draw_text(img, W, H, x, 28, "predicted", 2, green);
  x = draw_text(img, W, H, x, 28, " (", 2, gray);
  x = draw_text(img, W, H, x, 28, "red", 2, red);
  draw_text(img, W, H, x, 28, ": wrong)", 2, gray);
  for (int k = 0; k < n; k++) {
    int cx = (k % GRID) * CELL_W, cy = HEAD + (k / GRID) * CELL_H, truth = m->truth[k],
        pred = m->pred[k];
    const uint8_t *px = m->pixels + (size_t)k * side * side;
    for (int y = 0; y < 2 * side; y++)
      for (int x = 0; x < 2 * side; x++) {
        uint8_t v = px[(y / 2) * side + x / 2], rgb[3] = {v, v, v};
        put(img, W, cx + 4 + x, cy + 4 + y, rgb);
      }
    if (pred != truth) /* a red frame marks a miss */
      for (int i = 0; i < 2 * side + 4; i++)
        for (int b = 0; b < 2; b++) {
          put(img, W, cx + 2 + i, cy + 2 + b, red);
          put(img, W, cx + 2 + i, cy + 2 * side + 4 + b, red);
          put(img, W, cx + 2 + b, cy + 2 + i, red);
          put(img, W, cx + 2 * side + 4 + b, cy + 2 + i, red);
        }
    draw_digit(img, W, H, cx + 12, cy + 2 * side + 10, truth, gray);
    draw_digit(img, W, H, cx + 36, cy + 2 * side + 10, pred, pred == truth ? green : red);
  }
  char name[64], safe[32];
  safe_name(safe, sizeof safe, w->name);
  snprintf(name, sizeof name, "%s-montage.png", safe);
  rc = path_join(path, sizeof path, dir, name, err, sizeof err);
  if (!rc) rc = png_write_8bit(path, img, W, H, 3, err, sizeof err);
  if (rc) fprintf(stderr, "mlpbench: %s\n", TERM_TEXT(err));
done:
  free(img);
  return rc;
}
