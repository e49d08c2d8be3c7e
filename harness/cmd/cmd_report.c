/* mlpbench report RESULTS.json [--history FOLDER...] [--images DIR] [--out FILE]: one
 * self-contained HTML page: the machine context, each workload's timing table with its
 * gradient-check verdicts, the run's plots (redrawn, or the PNGs bench drew in --images) and,
 * with --history, the trend table and plots,
 * every image embedded as a data: URI. No script, no network, no external file: it opens
 * from disk in any browser and prints (the layout has a print style).
 *
 * Every string from a results file is HTML-escaped (html_text below); nothing from a file
 * becomes markup, an attribute or a URL. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../workloads/io/file_read.h"
#include "../../workloads/io/outfile.h"
#include "../output/history.h"
#include "../output/history_plot.h"
#include "../output/plots.h"
#include "../output/reporter.h"
#include "../output/results.h"
#include "../output/table.h"
#include "../sys/interrupt.h"
#include "../sys/term_text.h"
#include "../sys/tmpdir.h"
#include "cli.h"

/* the cap on one embedded PNG (bench draws a few hundred KiB) */
#define REPORT_MAX_PNG ((size_t)64 << 20)

static void html_text(FILE *f, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '&')
      fputs("&amp;", f);
    else if (c == '<')
      fputs("&lt;", f);
    else if (c == '>')
      fputs("&gt;", f);
    else if (c == '"')
      fputs("&quot;", f);
    else if (c == '\'')
      fputs("&#39;", f);
    else if (c < 0x20 && c != '\n' && c != '\t')
      fputc(' ', f);
    else
      fputc(c, f);
  }
}

static void base64(FILE *f, const unsigned char *p, size_t n) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    fputc(t[v >> 18 & 63], f);
    fputc(t[v >> 12 & 63], f);
    fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
    fputc(i + 2 < n ? t[v & 63] : '=', f);
  }
}

static int is_png_name(const char *name) {
  size_t len = strlen(name);
  return len > 4 && strcmp(name + len - 4, ".png") == 0 && name[0] != '.';
}

/* One PNG through the careful reader (regular files only, non-blocking, capped), embedded
 * with its file name as the caption; one that cannot be read is named on stderr with why. */
static int embed_png(FILE *f, const char *dir, const char *name) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  char path[PATH_MAX + 256], err[PATH_MAX + 256];
  unsigned char *buf = NULL;
  size_t sz = 0;
  if (path_join(path, sizeof path, dir, name, err, sizeof err) ||
      file_read_max(path, REPORT_MAX_PNG, sig, 8, "a PNG file", &buf, &sz, err, sizeof err)) {
    fprintf(stderr, "mlpbench report: skipped %s\n", TERM_TEXT(err));
    return 0;
  }
  fputs("<figure><img alt=\"", f);
  html_text(f, name);
  fputs("\" src=\"data:image/png;base64,", f);
  base64(f, buf, sz);
  fputs("\"><figcaption>", f);
  html_text(f, name);
  fputs("</figcaption></figure>\n", f);
  free(buf);
  return 1;
}

/* Every PNG in dir (sorted); how many were embedded. */
static int embed_pngs(FILE *f, const char *dir) {
  struct dirent **list = NULL;
  int n = scandir(dir, &list, NULL, alphasort), shown = 0;
  for (int i = 0; i < n; i++) {
    if (is_png_name(list[i]->d_name)) shown += embed_png(f, dir, list[i]->d_name);
    free(list[i]);
  }
  free(list);
  return shown;
}

static void context_html(FILE *f, const report_context *c) {
  const char *k[] = {"date",   "host",        "CPU",  "caches",      "OS",  "compiler", "flags",
                     "commit", "commit date", "BLAS", "BLAS kernel", "GPU", "command"};
  const char *v[] = {c->date,        c->host,  c->cpu,    c->caches,      c->os,
                     c->compiler,    c->flags, c->commit, c->commit_date, c->blas_library,
                     c->blas_kernel, c->gpu,   c->command};
  fputs("<h2>Machine and build</h2>\n<table class=kv>\n", f);
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    if (!v[i][0]) continue;
    fprintf(f, "<tr><th>%s</th><td>", k[i]);
    html_text(f, v[i]);
    fputs("</td></tr>\n", f);
  }
  fprintf(f, "<tr><th>cores</th><td>%d</td></tr>", c->cores);
  if (c->blas_threads > 0) fprintf(f, "<tr><th>BLAS threads</th><td>%d</td></tr>", c->blas_threads);
  fprintf(f, "<tr><th>seed</th><td>%llu</td></tr><tr><th>FTZ/DAZ</th><td>%s</td></tr>\n",
          (unsigned long long)c->seed, c->ftz ? "on" : "off");
  if (isfinite(c->peak_gflops)) {
    fprintf(f, "<tr><th>machine peak</th><td>%.1f GFLOP/s FP32 (", c->peak_gflops);
    html_text(f, c->peak_by);
    fputs("; what this library reaches here, not a datasheet figure", f);
    if (c->peak_at[0]) {
      fputs("; measured ", f);
      html_text(f, c->peak_at);
    }
    fputs(")", f);
    if (c->peak_disturbed[0]) {
      fputs(" <span class=bad>measured while the machine was busy (", f);
      html_text(f, c->peak_disturbed);
      fputs("): &quot;of peak&quot; reads high</span>", f);
    }
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void cell_time(FILE *f, double s) {
  char b[32];
  if (!isfinite(s)) {
    fputs("<td>-</td>", f);
    return;
  }
  table_fmt_time(b, sizeof b, s);
  fprintf(f, "<td>%s</td>", b);
}

/* What table_print_disturbed says under the terminal table, as a paragraph. */
static void disturbed_html(FILE *f, const report_workload *w) {
  int n = 0;
  for (int i = 0; i < w->n_rows; i++)
    n += w->rows[i].disturbed;
  if (!n) return;
  fputs("<p class=bad>Rows marked (disturbed) were measured while the machine was busy, or with "
        "figures that contradict each other: their times are not what this machine does "
        "quiet.</p>\n<ul>\n",
        f);
  for (int i = 0; i < w->n_rows; i++) {
    if (!w->rows[i].disturbed) continue;
    fputs("<li>", f);
    html_text(f, w->rows[i].backend);
    fputs(": ", f);
    html_text(f, w->rows[i].disturbed_reason);
    fputs("</li>\n", f);
  }
  fputs("</ul>\n<p>Run on a quiet machine (stop other jobs), or use fewer threads "
        "(--threads).</p>\n",
        f);
}

static void workload_html(FILE *f, const report_workload *w) {
  fputs("<h2>", f);
  html_text(f, w->name);
  fprintf(f, " %d-%d-%d on ", w->spec.n_in, w->spec.n_hidden, w->spec.n_out);
  html_text(f, w->data_title[0] ? w->data_title : w->dataset);
  fprintf(f, "</h2>\n<p>%d train / %d val, batch %d, %d steps per epoch, ", w->n_train, w->n_val,
          w->batch, w->batches_per_epoch);
  html_text(f, w->sampling);
  fprintf(f,
          "; %d epochs x %d runs, the first %d sample(s) of each run dropped; %.4g GFLOP of "
          "GEMM per epoch.</p>\n",
          w->epochs, w->repeat, w->warmup, w->gflop_per_epoch);
  fputs("<table><tr><th>backend</th><th>median/epoch</th><th>IQR</th><th>min</th><th>max</th>"
        "<th>n</th><th>samples/s</th><th>GFLOP/s</th><th>step floor</th><th>x step floor</th>"
        "<th>GEMM floor</th><th>x floor</th>"
        "<th>of peak</th><th>val acc</th><th>gradient check</th><th>largest error / "
        "tolerance</th><th>path</th>"
        "<th>device/epoch</th><th>memory</th></tr>\n",
        f);
  for (int i = 0; i < w->n_rows; i++) {
    const report_row *r = &w->rows[i];
    fputs("<tr><td>", f);
    html_text(f, r->backend);
    fputs("</td>", f);
    if (!r->ran) {
      fputs("<td colspan=18 class=bad>failed: ", f);
      html_text(f, r->error);
      fputs("</td></tr>\n", f);
      continue;
    }
    if (r->disturbed) { /* as the terminal table: the time is marked, the reason under it */
      char b[32];
      table_fmt_time(b, sizeof b, r->st.median);
      fprintf(f, "<td>%s <span class=bad>(disturbed)</span></td>", b);
    } else {
      cell_time(f, r->st.median);
    }
    cell_time(f, r->st.q3 - r->st.q1);
    cell_time(f, r->st.min);
    cell_time(f, r->st.max);
    fprintf(f, "<td>%d</td><td>%.4g</td><td>%.2f</td>", r->n_samples, r->samples_per_s, r->gflops);
    const double floors[2] = {r->step_floor, r->gemm_floor}; /* as the Markdown table */
    for (int k = 0; k < 2; k++) {
      cell_time(f, floors[k]);
      if (isfinite(floors[k]) && floors[k] > 0)
        fprintf(f, "<td>%.2f</td>", r->st.median / floors[k]);
      else
        fputs("<td>-</td>", f);
    }
    if (isfinite(r->peak_fraction)) /* the row's GFLOP/s against the machine's, as the table */
      fprintf(f, "<td>%.0f%%</td>", 100 * r->peak_fraction);
    else
      fputs("<td>-</td>", f);
    if (isfinite(r->val_acc))
      fprintf(f, "<td>%.4f</td>", r->val_acc);
    else
      fputs("<td>-</td>", f);
    fprintf(f, "<td class=%s>%s</td><td>%.2e / %.1e</td><td>", r->gc.pass ? "ok" : "bad",
            !r->gc_done  ? "not run"
            : r->gc.pass ? "pass"
                         : "FAILED, not ranked",
            r->gc.worst, r->gc.tol);
    html_text(f, r->path[0] ? r->path : "-");
    fputs("</td>", f);
    cell_time(f, r->n_dev ? r->device_median : NAN); /* the backend's own clock, a 2nd figure */
    char mem[96];
    table_fmt_memory(mem, sizeof mem, r);
    fputs("<td>", f);
    html_text(f, mem);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
  disturbed_html(f, w);
}

static void history_html(FILE *f, const history *h) {
  fprintf(f,
          "<h2>History</h2>\n<p>%d results files, %d skipped, %d series.</p>\n<table><tr>"
          "<th>series</th><th>backend</th><th>machine</th><th>runs</th><th>latest commit</th>"
          "<th>latest median</th><th>vs previous</th><th>steps</th></tr>\n",
          h->files_read, h->files_skipped, h->n);
  for (int i = 0; i < h->n; i++) {
    const hist_series *s = &h->s[i];
    const hist_point *last = &s->pts[s->n - 1];
    fputs("<tr><td>", f);
    html_text(f, s->workload);
    fprintf(f, " %d-%d-%d b%d ", s->id.n_in, s->id.n_hidden, s->id.n_out, s->id.batch);
    html_text(f, s->id.sampling);
    fputs("</td><td>", f);
    html_text(f, s->backend);
    fputs("</td><td>", f);
    html_text(f, s->host);
    fprintf(f, "</td><td>%d</td><td>", s->n);
    html_text(f, last->commit);
    fputs("</td>", f);
    cell_time(f, last->median);
    if (s->n > 1)
      fprintf(f, "<td>%+.1f%%</td>", (last->median / s->pts[s->n - 2].median - 1) * 100);
    else
      fputs("<td>-</td>", f);
    fputs("<td>", f);
    for (int k = 0; k < s->n_steps; k++) {
      fprintf(f, "%s%+.1f%% at ", k ? "; " : "", history_step_change(s, k) * 100);
      html_text(f, s->pts[s->steps[k]].commit);
    }
    fputs(s->n_steps ? "</td></tr>\n" : "-</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static const char *style =
    "<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;"
    "color:#222}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em;border-bottom:1px solid "
    "#ccc}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid "
    "#ccc;padding:.2em .5em;text-align:right}th{background:#f3f3f3}td:first-child,.kv td,.kv "
    "th{text-align:left}.ok{color:#175}.bad{color:#b00;font-weight:bold}figure{margin:1em 0}"
    "img{max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:.8em;color:#666}"
    "@media print{body{max-width:none}figure,table{break-inside:avoid}}</style>\n";

/* Draws the run's plots (and the history's) into a private folder, then writes the page. */
static int write_page(outfile *o, const report *r, const history *h, const char *images,
                      const char *tmp) {
  FILE *f = o->f;
  int failed = 0;
  fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
        "<title>mlpbench report</title>\n",
        f);
  fputs(style, f);
  fputs("</head><body>\n<h1>mlpbench report</h1>\n", f);
  context_html(f, &r->ctx);
  for (int i = 0; i < r->n_wl; i++)
    workload_html(f, &r->wl[i]);
  fputs("<h2>Plots of this run</h2>\n", f);
  int shown;
  if (images) { /* the plots bench drew for this run */
    shown = embed_pngs(f, images);
  } else { /* drawn from the results file alone, the montage included */
    char err[PATH_MAX + 64];
    failed |= reporter_plots.write(r, tmp, 0, err, sizeof err) != 0;
    shown = embed_pngs(f, tmp);
  }
  if (!shown) /* the true reason, not a guess */
    fputs(images                  ? "<p>No plots: no readable PNG in the --images folder.</p>\n"
          : !plots_have_gnuplot() ? "<p>No plots (gnuplot not installed).</p>\n"
                                  : "<p>No plots: they could not be drawn.</p>\n",
          f);
  if (h) {
    history_html(f, h);
    char hdir[PATH_MAX], err[256];
    if (path_join(hdir, sizeof hdir, tmp, "history", err, sizeof err)) {
      fprintf(stderr, "mlpbench report: %s\n", TERM_TEXT(err));
      failed = 1;
    } else {
      failed |= history_plots(hdir, h) != 0;
      embed_pngs(f, hdir);
    }
  }
  fputs("</body></html>\n", f);
  return failed;
}

/* What the reader and the outputs would collide on, before a page is drawn: --out naming
 * the results file it reads (any spelling of it) would replace the run with its page, and a
 * missing --images folder would give a page that blames gnuplot. */
static int report_check_args(const char *file, const char *out, const char *images, char *err,
                             size_t len) {
  struct stat st;
  if (outfile_same(file, out)) {
    snprintf(err, len, "--out %s is the results file it reads (%s): refusing to replace it", out,
             file);
    return -1;
  }
  if (images && stat(images, &st) != 0) {
    snprintf(err, len, "--images %s: %s", images, strerror(errno));
    return -1;
  }
  if (images && !S_ISDIR(st.st_mode)) {
    snprintf(err, len, "--images %s: not a folder", images);
    return -1;
  }
  return 0;
}

static const cli_command report_cmd = {
    "report",
    "RESULTS.json",
    "Dgo",
    1,
    1,
    "One self-contained HTML page (default --out: beside RESULTS.json, as RESULTS.html): "
    "context, tables,\ngradient checks, the run's plots (redrawn; or the PNGs in --images, e.g. "
    "bench's --plots folder with\nits montage), and the history of --history folders.\n\n"
    "exit codes: 0 ok, 2 unreadable results file, unwritable output, --out naming the results "
    "file or a missing --images folder, 3 a plot could not be drawn"};

int cmd_report(int argc, char **argv) {
  cli_opts opts;
  char out_beside[PATH_MAX];
  char err[PATH_MAX + 256], tmp[PATH_MAX - 64];
  report r;
  history h = {0};
  outfile o = {0};
  int rc;
  if (cli_begin(&report_cmd, argc, argv, &opts, &rc)) return rc;
  memset(&r, 0, sizeof r);
  rc = EXIT_USAGE;
  const char *file = opts.args[0], *out = opts.out, *images = opts.images;
  const char *const *hist = opts.history.v;
  const int nh = opts.history.n;
  if (!out) { /* beside the results file, never a folder of the current directory's */
    size_t n = strlen(file);
    if (n > 5 && strcmp(file + n - 5, ".json") == 0) n -= 5;
    if (snprintf(out_beside, sizeof out_beside, "%.*s.html", (int)n, file) >=
        (int)sizeof out_beside) {
      fprintf(stderr, "mlpbench report: %s: the page's name beside it is too long\n",
              TERM_TEXT(file));
      goto done;
    }
    out = out_beside;
  }
  if (results_read(file, &r, err, sizeof err) || outfile_check(out, err, sizeof err) ||
      report_check_args(file, out, images, err, sizeof err)) {
    fprintf(stderr, "mlpbench report: %s\n", TERM_TEXT(err));
    goto done;
  }
  for (int i = 0; i < nh; i++)
    if (history_add_path(&h, hist[i], stderr)) goto oom;
  history_finish(&h, 0.05);
  rc = EXIT_RUNTIME;
  interrupt_install(); /* a stop ends the page unwritten, its temp folder removed */
  if (tmpdir_make(tmp, sizeof tmp, "report", err, sizeof err)) {
    fprintf(stderr, "mlpbench report: %s\n", TERM_TEXT(err));
    goto done;
  }
  if (outfile_open(&o, out, err, sizeof err)) {
    fprintf(stderr, "mlpbench report: %s\n", TERM_TEXT(err));
    goto cleanup;
  }
  int failed = write_page(&o, &r, h.files_read ? &h : NULL, images, tmp);
  if (mlpb_stop_signal) {
    outfile_abort(&o);
    fprintf(stderr, "mlpbench report: interrupted by signal %d: nothing written\n",
            (int)mlpb_stop_signal);
    rc = interrupt_exit_code();
    goto cleanup;
  }
  if (outfile_commit(&o, err, sizeof err)) {
    fprintf(stderr, "mlpbench report: %s\n", TERM_TEXT(err));
    goto cleanup;
  }
  fprintf(stderr, "mlpbench report: written to %s\n", TERM_TEXT(out));
  rc = failed ? EXIT_RUNTIME : EXIT_OK;
cleanup:
  tmpdir_remove(tmp);
  goto done;
oom:
  fprintf(stderr, "mlpbench report: out of memory\n");
  rc = EXIT_RUNTIME;
done:
  history_free(&h);
  report_free(&r);
  return rc;
}
