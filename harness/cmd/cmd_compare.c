/* mlpbench compare BASE NEW: the regression gate. For every workload x backend in both,
 * a two-sided Mann-Whitney U test on the per-epoch samples plus a minimum change of the
 * median; a regression needs both. BASE and NEW may each be a comma-separated list of
 * results files, whose samples are pooled (interleaved A/B runs). Rows are compared only
 * when workload (wl_identity.h) and machine (run_identity.h) agree; the same run named twice
 * on one side counts once. Every string from a results file reaches the terminal through
 * term_text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../output/results.h"
#include "../output/run_identity.h"
#include "../output/table.h"
#include "../output/wl_identity.h"
#include "../stats/mwu.h"
#include "../stats/stats.h"
#include "../sys/term_text.h"
#include "cli.h"

typedef struct {
  /* as long as the names a results file can hold: a shorter buffer truncated a long name,
   * which then never matched its own pool and the gate compared nothing */
  char workload[sizeof((report_workload *)0)->name], backend[sizeof((report_row *)0)->backend];
  wl_identity sig;    /* what the pool holds runs of */
  char sig_file[256]; /* where it was first seen, for messages */
  machine_id mach;    /* where they ran (seen first in sig_file) */
  double *x;          /* every per-epoch sample */
  int n, cap;
  double *runs;  /* one median per results file (process run) */
  int *run_file; /* the index in its side's list of the file each run came from (--paired) */
  int n_runs, cap_runs;
  int pairs_dropped;        /* --paired: rounds where one file of the pair lacks this row */
  double mem_host, mem_dev; /* the largest memory figures seen (NaN: none), shown, not gated */
} pool;

typedef struct {
  pool *p;
  int n, cap;
  int n_files; /* in the side's list */
  int dups;    /* rows dropped: the same run seen before on this side */
  run_set seen;
} pools;

static pool *find_pool(pools *ps, const char *wl, const char *be, int create) {
  for (int i = 0; i < ps->n; i++)
    if (strcmp(ps->p[i].workload, wl) == 0 && strcmp(ps->p[i].backend, be) == 0) return &ps->p[i];
  if (!create) return NULL;
  if (ps->n == ps->cap) {
    int nc = ps->cap ? ps->cap * 2 : 8;
    pool *np = realloc(ps->p, (size_t)nc * sizeof *np);
    if (!np) return NULL;
    ps->p = np;
    ps->cap = nc;
  }
  pool *p = &ps->p[ps->n++];
  memset(p, 0, sizeof *p);
  p->mem_host = p->mem_dev = NAN;
  snprintf(p->workload, sizeof p->workload, "%s", wl);
  snprintf(p->backend, sizeof p->backend, "%s", be);
  return p;
}

static int pool_add(pool *p, const double *x, int n) {
  if (p->n + n > p->cap) {
    int nc = (p->n + n) * 2;
    double *nx = realloc(p->x, (size_t)nc * sizeof *nx);
    if (!nx) return -1;
    p->x = nx;
    p->cap = nc;
  }
  for (int i = 0; i < n; i++)
    if (isfinite(x[i])) p->x[p->n++] = x[i];
  return 0;
}

static int pool_add_run(pool *p, double median, int file) {
  if (p->n_runs == p->cap_runs) {
    int nc = p->cap_runs ? p->cap_runs * 2 : 8;
    double *nr = realloc(p->runs, (size_t)nc * sizeof *nr);
    if (!nr) return -1;
    p->runs = nr;
    int *nf = realloc(p->run_file, (size_t)nc * sizeof *nf);
    if (!nf) return -1;
    p->run_file = nf;
    p->cap_runs = nc;
  }
  p->run_file[p->n_runs] = file;
  p->runs[p->n_runs++] = median;
  return 0;
}

static void pools_free(pools *ps) {
  for (int i = 0; i < ps->n; i++) {
    free(ps->p[i].x);
    free(ps->p[i].runs);
    free(ps->p[i].run_file);
  }
  free(ps->p);
  run_set_free(&ps->seen);
  memset(ps, 0, sizeof *ps);
}

/* Bounds what one side may pool: the test is O(n log n), but memory and reading are not free. */
#define COMPARE_MAX_SAMPLES 10000000

/* Memory beside the gate: the largest peak RSS growth and device memory of each side. */
static void print_memory(const pools *base, const pools *cur) {
  int any = 0;
  for (int i = 0; i < base->n; i++) {
    const pool *a = &base->p[i], *b = find_pool((pools *)cur, a->workload, a->backend, 0);
    if (!b || (isnan(a->mem_host) && isnan(b->mem_host) && isnan(a->mem_dev) && isnan(b->mem_dev)))
      continue;
    if (!any++)
      printf(
          "\nmemory (largest of each side; not gated)\n\n| workload | backend | base RSS growth | "
          "new RSS growth | base device | new device |\n|---|---|---|---|---|---|\n");
    char c[4][32], wl[64], be[64];
    table_fmt_mib(c[0], sizeof c[0], a->mem_host);
    table_fmt_mib(c[1], sizeof c[1], b->mem_host);
    table_fmt_mib(c[2], sizeof c[2], a->mem_dev);
    table_fmt_mib(c[3], sizeof c[3], b->mem_dev);
    printf("| %s | %s | %s | %s | %s | %s |\n", md_cell(wl, sizeof wl, a->workload),
           md_cell(be, sizeof be, a->backend), c[0], c[1], c[2], c[3]);
  }
}

/* A refusal: "W/B: not comparable: WHY (--force compares anyway)", every part made safe. */
static void not_comparable(const pool *p, const char *why) {
  char wl[64], be[64], w[2048];
  fprintf(stderr, "mlpbench compare: %s/%s: not comparable: %s (--force compares anyway)\n",
          term_text(wl, sizeof wl, p->workload), term_text(be, sizeof be, p->backend),
          term_text(w, sizeof w, why));
}

/* 0 when row (workload g, machine m, from file f) may join pool p: the same workload on the
 * same machine as the pool's first row; else the refusal, -1. The first row sets them. */
static int pool_admits(pool *p, int fresh, const wl_identity *g, const machine_id *m, const char *f,
                       int force) {
  char why[1024];
  if (fresh) {
    p->sig = *g;
    p->mach = *m;
    snprintf(p->sig_file, sizeof p->sig_file, "%s", f);
    return 0;
  }
  if (force) return 0;
  if (wl_identity_diff(&p->sig, p->sig_file, g, f, why, sizeof why) ||
      machine_id_diff(&p->mach, p->sig_file, m, f, why, sizeof why)) {
    not_comparable(p, why);
    return -1;
  }
  return 0;
}

/* One row of file f (index fi in its side's list) into its pool. 0, or -1 after a message. */
static int load_row(pools *ps, const report *r, const report_workload *w, const report_row *row,
                    const char *f, int fi, int force) {
  int new_run = run_set_add(&ps->seen, run_fingerprint(r, w, row));
  if (new_run == 0) { /* the same run named twice (or a copy): one run, not two */
    ps->dups++;
    return 0;
  }
  int fresh = !find_pool(ps, w->name, row->backend, 0);
  pool *p = new_run < 0 ? NULL : find_pool(ps, w->name, row->backend, 1);
  if (!p) {
    fprintf(stderr, "mlpbench compare: out of memory\n");
    return -1;
  }
  wl_identity g;
  machine_id m;
  wl_identity_of(w, &g);
  machine_id_of(r, row, &m);
  if (pool_admits(p, fresh, &g, &m, f, force)) return -1;
  if (p->n + row->n_samples > COMPARE_MAX_SAMPLES) {
    char wl[64], be[64], file[1024];
    fprintf(stderr, "mlpbench compare: %s/%s: over %d samples on one side (%s): too large\n",
            term_text(wl, sizeof wl, p->workload), term_text(be, sizeof be, p->backend),
            COMPARE_MAX_SAMPLES, term_text(file, sizeof file, f));
    return -1;
  }
  p->mem_host = stats_max_finite(p->mem_host, row->host_peak_growth);
  p->mem_dev = stats_max_finite(p->mem_dev, row->device_bytes);
  if (pool_add(p, row->samples, row->n_samples) ||
      (row->n_samples && pool_add_run(p, row->st.median, fi))) {
    fprintf(stderr, "mlpbench compare: out of memory\n");
    return -1;
  }
  return 0;
}

/* Reads every file of a comma list; only rows that ran and passed their check count. Rows of
 * one workload x backend must describe the same workload on the same machine in every file
 * (else -1). */
static int load_side(const char *list, pools *ps, int force) {
  char err[1024], shown[1024];
  char *buf = strdup(list); /* any length: a fixed buffer would drop files silently */
  if (!buf) return -1;
  for (char *save = NULL, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
    report r;
    int fi = ps->n_files++;
    if (results_read(f, &r, err, sizeof err)) {
      fprintf(stderr, "mlpbench compare: %s\n", term_text(shown, sizeof shown, err));
      goto fail;
    }
    for (int w = 0; w < r.n_wl; w++)
      for (int k = 0; k < r.wl[w].n_rows; k++) {
        const report_row *row = &r.wl[w].rows[k];
        if (!row->ran || (row->gc_done && !row->gc.pass)) continue;
        if (load_row(ps, &r, &r.wl[w], row, f, fi, force)) {
          report_free(&r);
          goto fail;
        }
      }
    report_free(&r);
  }
  free(buf);
  return 0;
fail:
  free(buf);
  return -1;
}

/* The pairs of --paired: round i is file i of BASE with file i of NEW. A round where one
 * file lacks the row is dropped, never filled from the next round: shifted pairs would pair
 * runs of different rounds, and phase drift between rounds would then read as a change. The
 * log ratios go into d (n_files entries); returns their count, or -1 when a file holds the
 * row twice (which of them pairs is unknowable). */
static int paired_ratios(pool *a, const pool *b, int n_files, double *d) {
  int n = 0;
  for (int i = 0; i < n_files; i++) {
    double ra = NAN, rb = NAN;
    for (int k = 0; k < a->n_runs; k++)
      if (a->run_file[k] == i) {
        if (!isnan(ra)) return -1;
        ra = a->runs[k];
      }
    for (int k = 0; k < b->n_runs; k++)
      if (b->run_file[k] == i) {
        if (!isnan(rb)) return -1;
        rb = b->runs[k];
      }
    if (isnan(ra) || isnan(rb)) {
      a->pairs_dropped += !isnan(ra) || !isnan(rb);
      continue;
    }
    d[n++] = log(rb / ra);
  }
  return n;
}

/* --paired: file i of BASE and file i of NEW ran next to each other (an A/B round), so the
 * unit is the pair: the log ratio of their run medians, tested against 0 with the Wilcoxon
 * signed-rank test; the effect is the median ratio. Phase drift that moves both runs of a
 * pair cancels. Returns 1 regression, 0 not, -1 unusable. */
static int compare_paired(pool *a, const pool *b, int n_files, double alpha, double min_effect) {
  char wl[64], be[64];
  md_cell(wl, sizeof wl, a->workload);
  md_cell(be, sizeof be, a->backend);
  double *d = malloc((size_t)(n_files ? n_files : 1) * sizeof *d);
  if (!d) return -1;
  const int n = paired_ratios(a, b, n_files, d);
  if (n < 5) {
    if (n < 0)
      fprintf(stderr, "mlpbench compare: %s/%s: --paired: a file holds this row twice\n", wl, be);
    else
      fprintf(stderr,
              "mlpbench compare: %s/%s: --paired needs at least 5 rounds with the row in both "
              "files (have %d, %d dropped)\n",
              wl, be, n, a->pairs_dropped);
    free(d);
    return -1;
  }
  wilcoxon_result w;
  int bad = wilcoxon_test(d, n, &w);
  double change = exp(stats_summarize(d, n).median) - 1.0;
  free(d);
  if (bad) return -1;
  const char *verdict = "same";
  int reg = w.p < alpha && change > min_effect;
  if (reg)
    verdict = "**REGRESSION**";
  else if (w.p < alpha && change < -min_effect)
    verdict = "faster";
  else if (w.p < alpha)
    verdict = "same (shift under the minimum effect)";
  char ta[32], tb[32];
  table_fmt_time(ta, sizeof ta, stats_summarize(a->runs, a->n_runs).median);
  table_fmt_time(tb, sizeof tb, stats_summarize(b->runs, b->n_runs).median);
  printf("| %s | %s | %s | %s | %+.1f%% | %.3g | %d pairs | %s |\n", wl, be, ta, tb, change * 100,
         w.p, n, verdict);
  return reg;
}

/* What was left out, said after the table: pairs dropped, duplicates dropped. */
static void print_dropped(const pools *base, const pools *cur) {
  for (int i = 0; i < base->n; i++) {
    const pool *a = &base->p[i];
    char wl[64], be[64];
    if (a->pairs_dropped)
      printf("%s/%s: %d pair(s) dropped (the row missing from one file of the round)\n",
             term_text(wl, sizeof wl, a->workload), term_text(be, sizeof be, a->backend),
             a->pairs_dropped);
  }
  if (base->dups || cur->dups)
    printf("%d duplicate run(s) dropped from BASE, %d from NEW (a row of a run already read on "
           "that side: a file named twice, or a copy)\n",
           base->dups, cur->dups);
}

int cmd_compare(int argc, char **argv) {
  double alpha = 0.05, min_effect = 0.05;
  const char *files[2] = {NULL, NULL};
  int nf = 0, force = 0, paired = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: mlpbench compare BASE.json[,BASE2.json...] NEW.json[,NEW2.json...] "
             "[--alpha P] [--min-effect F] [--force] [--paired]\n\n"
             "For every workload x backend in both: a two-sided Mann-Whitney U test. With at "
             "least 3 files a side the\nunit is the run (one median per file: samples of one "
             "process are not independent); otherwise\nthe per-epoch samples, as "
             "google/benchmark's compare.py does. A regression is p < alpha (0.05)\nand a "
             "median slower by more than min-effect (0.05 = 5%%).\nRows are compared only when "
             "model, data (hash), batch and sampling agree in every file, and the\nmachine "
             "(CPU model, cores, BLAS kernel and threads, GPU; not the host name): otherwise "
             "exit 2\nnaming the difference, unless --force. The same run named twice on a "
             "side (or a copy of its\nfile) counts once; the output says how many were "
             "dropped.\n--paired: file i of BASE and file i of NEW ran side by side (A/B "
             "rounds): a Wilcoxon signed-rank\ntest on the log ratios of their run medians, "
             "the effect their median ratio. Both sides need as\nmany files; a round where one "
             "file lacks a row is dropped for that row (and said), never shifted.\n\n"
             "exit codes: 0 no regression, 1 regression, 2 unusable input\n");
      return EXIT_OK;
    }
    if ((strcmp(argv[i], "--alpha") == 0 || strcmp(argv[i], "--min-effect") == 0) && i + 1 < argc) {
      char *end = NULL;
      double v = strtod(argv[i + 1], &end);
      if (*end || !(v > 0 && v < 1)) {
        char shown[256];
        fprintf(stderr, "mlpbench compare: %s must be in (0, 1), got '%s'\n", argv[i],
                term_text(shown, sizeof shown, argv[i + 1]));
        return EXIT_USAGE;
      }
      *(argv[i][2] == 'a' ? &alpha : &min_effect) = v;
      i++;
    } else if (strcmp(argv[i], "--force") == 0) {
      force = 1;
    } else if (strcmp(argv[i], "--paired") == 0) {
      paired = 1;
    } else if (argv[i][0] == '-') {
      char shown[256];
      fprintf(stderr, "mlpbench compare: unknown option '%s'\n",
              term_text(shown, sizeof shown, argv[i]));
      return EXIT_USAGE;
    } else if (nf < 2) {
      files[nf++] = argv[i];
    } else {
      char shown[256];
      fprintf(stderr, "mlpbench compare: unexpected argument '%s'\n",
              term_text(shown, sizeof shown, argv[i]));
      return EXIT_USAGE;
    }
  }
  if (nf != 2) {
    fprintf(stderr, "mlpbench compare: needs BASE and NEW results files (see --help)\n");
    return EXIT_USAGE;
  }
  pools base = {0}, cur = {0};
  int rc = EXIT_USAGE, compared = 0, regressions = 0;
  if (load_side(files[0], &base, force) || load_side(files[1], &cur, force)) goto done;
  for (int i = 0; i < base.n && !force; i++) {
    pool *a = &base.p[i], *b = find_pool(&cur, a->workload, a->backend, 0);
    char why[1024];
    if (b && (wl_identity_diff(&a->sig, a->sig_file, &b->sig, b->sig_file, why, sizeof why) ||
              machine_id_diff(&a->mach, a->sig_file, &b->mach, b->sig_file, why, sizeof why))) {
      not_comparable(a, why);
      goto done;
    }
  }
  if (paired && base.n_files != cur.n_files) {
    fprintf(stderr,
            "mlpbench compare: --paired pairs file i of BASE with file i of NEW: needs as many "
            "files a side (have %d and %d)\n",
            base.n_files, cur.n_files);
    goto done;
  }
  printf("| workload | backend | base median | new median | change | p-value | n | verdict |\n"
         "|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < base.n; i++) {
    pool *a = &base.p[i], *b = find_pool(&cur, a->workload, a->backend, 0);
    if (!b) continue;
    if (paired) {
      int r = compare_paired(a, b, base.n_files, alpha, min_effect);
      if (r < 0) goto done;
      regressions += r == 1;
      compared++;
      continue;
    }
    /* the unit of replication: whole runs when there are enough of them */
    int by_run = a->n_runs >= 3 && b->n_runs >= 3;
    const double *xa = by_run ? a->runs : a->x, *xb = by_run ? b->runs : b->x;
    int na = by_run ? a->n_runs : a->n, nb = by_run ? b->n_runs : b->n;
    char wl[64], be[64];
    md_cell(wl, sizeof wl, a->workload);
    md_cell(be, sizeof be, a->backend);
    if (na < 3 || nb < 3) {
      printf("| %s | %s | | | | | %d / %d | too few samples |\n", wl, be, na, nb);
      continue;
    }
    mwu_result m;
    if (mwu_test(xa, na, xb, nb, &m)) goto done;
    double ma = stats_summarize(xa, na).median, mb = stats_summarize(xb, nb).median;
    double change = mb / ma - 1.0;
    const char *verdict = "same";
    if (m.p < alpha && change > min_effect) {
      verdict = "**REGRESSION**";
      regressions++;
    } else if (m.p < alpha && change < -min_effect) {
      verdict = "faster";
    } else if (m.p < alpha) {
      verdict = "same (shift under the minimum effect)";
    }
    char ta[32], tb[32];
    table_fmt_time(ta, sizeof ta, ma);
    table_fmt_time(tb, sizeof tb, mb);
    printf("| %s | %s | %s | %s | %+.1f%% | %.3g | %d / %d %s | %s |\n", wl, be, ta, tb,
           change * 100, m.p, na, nb, by_run ? "runs" : "samples", verdict);
    compared++;
  }
  if (!compared) {
    fprintf(stderr, "mlpbench compare: no workload x backend with enough samples in both\n");
    goto done;
  }
  printf("\n%d compared, %d regression(s) (alpha %.3g, minimum effect %.0f%%)\n", compared,
         regressions, alpha, min_effect * 100);
  print_dropped(&base, &cur);
  print_memory(&base, &cur);
  rc = regressions ? EXIT_CHECK : EXIT_OK;
done:
  pools_free(&base);
  pools_free(&cur);
  return rc;
}
