/* mlpbench compare BASE NEW: the regression gate. For every workload x backend in both,
 * a two-sided Mann-Whitney U test on the per-epoch samples plus a minimum change of the
 * median; a regression needs both. BASE and NEW may each be a comma-separated list of
 * results files, whose samples are pooled (interleaved A/B runs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../output/results.h"
#include "../output/table.h"
#include "../output/wl_identity.h"
#include "../stats/mwu.h"
#include "../stats/stats.h"
#include "cli.h"

typedef struct {
  /* as long as the names a results file can hold: a shorter buffer truncated a long name,
   * which then never matched its own pool and the gate compared nothing */
  char workload[sizeof((report_workload *)0)->name], backend[sizeof((report_row *)0)->backend];
  wl_identity sig;    /* what the pool holds runs of */
  char sig_file[256]; /* where it was first seen, for messages */
  double *x;          /* every per-epoch sample */
  int n, cap;
  double *runs; /* one median per results file (process run) */
  int n_runs, cap_runs;
  double mem_host, mem_dev; /* the largest memory figures seen (NaN: none), shown, not gated */
} pool;

typedef struct {
  pool *p;
  int n, cap;
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

static int pool_add_run(pool *p, double median) {
  if (p->n_runs == p->cap_runs) {
    int nc = p->cap_runs ? p->cap_runs * 2 : 8;
    double *nr = realloc(p->runs, (size_t)nc * sizeof *nr);
    if (!nr) return -1;
    p->runs = nr;
    p->cap_runs = nc;
  }
  p->runs[p->n_runs++] = median;
  return 0;
}

static void pools_free(pools *ps) {
  for (int i = 0; i < ps->n; i++) {
    free(ps->p[i].x);
    free(ps->p[i].runs);
  }
  free(ps->p);
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
    char c[4][32];
    table_fmt_mib(c[0], sizeof c[0], a->mem_host);
    table_fmt_mib(c[1], sizeof c[1], b->mem_host);
    table_fmt_mib(c[2], sizeof c[2], a->mem_dev);
    table_fmt_mib(c[3], sizeof c[3], b->mem_dev);
    printf("| %s | %s | %s | %s | %s | %s |\n", a->workload, a->backend, c[0], c[1], c[2], c[3]);
  }
}

/* Reads every file of a comma list; only rows that ran and passed their check count. Rows of
 * one workload x backend must describe the same workload in every file (else -1). */
static int load_side(const char *list, pools *ps, int force) {
  char err[1024];
  char *buf = strdup(list); /* any length: a fixed buffer would drop files silently */
  if (!buf) return -1;
  for (char *save = NULL, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
    report r;
    if (results_read(f, &r, err, sizeof err)) {
      fprintf(stderr, "mlpbench compare: %s\n", err);
      goto fail;
    }
    for (int w = 0; w < r.n_wl; w++)
      for (int k = 0; k < r.wl[w].n_rows; k++) {
        report_row *row = &r.wl[w].rows[k];
        if (!row->ran || (row->gc_done && !row->gc.pass)) continue;
        int fresh = !find_pool(ps, r.wl[w].name, row->backend, 0);
        pool *p = find_pool(ps, r.wl[w].name, row->backend, 1);
        wl_identity g;
        wl_identity_of(&r.wl[w], &g);
        char why[1024];
        if (p && fresh) {
          p->sig = g;
          snprintf(p->sig_file, sizeof p->sig_file, "%s", f);
        }
        if (p && !fresh && !force &&
            wl_identity_diff(&p->sig, p->sig_file, &g, f, why, sizeof why)) {
          fprintf(stderr, "mlpbench compare: %s/%s: not comparable: %s (--force compares anyway)\n",
                  p->workload, p->backend, why);
          report_free(&r);
          goto fail;
        }
        if (p && p->n + row->n_samples > COMPARE_MAX_SAMPLES) {
          fprintf(stderr, "mlpbench compare: %s/%s: over %d samples on one side (%s): too large\n",
                  p->workload, p->backend, COMPARE_MAX_SAMPLES, f);
          report_free(&r);
          goto fail;
        }
        if (p) {
          p->mem_host = stats_max_finite(p->mem_host, row->host_peak_growth);
          p->mem_dev = stats_max_finite(p->mem_dev, row->device_bytes);
        }
        if (!p || pool_add(p, row->samples, row->n_samples) ||
            (row->n_samples && pool_add_run(p, row->st.median))) {
          report_free(&r);
          fprintf(stderr, "mlpbench compare: out of memory\n");
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

/* --paired: file i of BASE and file i of NEW ran next to each other (an A/B round), so the
 * unit is the pair: the log ratio of their run medians, tested against 0 with the Wilcoxon
 * signed-rank test; the effect is the median ratio. Phase drift that moves both runs of a
 * pair cancels. Returns 1 regression, 0 not, -1 unusable. */
static int compare_paired(const pool *a, const pool *b, double alpha, double min_effect) {
  if (a->n_runs != b->n_runs || a->n_runs < 5) {
    fprintf(stderr,
            "mlpbench compare: %s/%s: --paired needs the same number of runs a side, at least "
            "5 (have %d and %d)\n",
            a->workload, a->backend, a->n_runs, b->n_runs);
    return -1;
  }
  const int n = a->n_runs;
  double *d = malloc((size_t)n * sizeof *d);
  if (!d) return -1;
  for (int i = 0; i < n; i++)
    d[i] = log(b->runs[i] / a->runs[i]);
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
  table_fmt_time(ta, sizeof ta, stats_summarize(a->runs, n).median);
  table_fmt_time(tb, sizeof tb, stats_summarize(b->runs, n).median);
  printf("| %s | %s | %s | %s | %+.1f%% | %.3g | %d pairs | %s |\n", a->workload, a->backend, ta,
         tb, change * 100, w.p, n, verdict);
  return reg;
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
             "model, data (hash), batch and sampling agree in every file: otherwise\nexit 2 "
             "naming the difference, unless --force.\n--paired: file i of BASE and file i of "
             "NEW ran side by side (A/B rounds): a Wilcoxon signed-rank\ntest on the log "
             "ratios of their run medians, the effect their median ratio.\n\n"
             "exit codes: 0 no regression, 1 regression, 2 unusable input\n");
      return EXIT_OK;
    }
    if ((strcmp(argv[i], "--alpha") == 0 || strcmp(argv[i], "--min-effect") == 0) && i + 1 < argc) {
      char *end = NULL;
      double v = strtod(argv[i + 1], &end);
      if (*end || !(v > 0 && v < 1)) {
        fprintf(stderr, "mlpbench compare: %s must be in (0, 1), got '%s'\n", argv[i], argv[i + 1]);
        return EXIT_USAGE;
      }
      *(argv[i][2] == 'a' ? &alpha : &min_effect) = v;
      i++;
    } else if (strcmp(argv[i], "--force") == 0) {
      force = 1;
    } else if (strcmp(argv[i], "--paired") == 0) {
      paired = 1;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "mlpbench compare: unknown option '%s'\n", argv[i]);
      return EXIT_USAGE;
    } else if (nf < 2) {
      files[nf++] = argv[i];
    } else {
      fprintf(stderr, "mlpbench compare: unexpected argument '%s'\n", argv[i]);
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
    if (b && wl_identity_diff(&a->sig, a->sig_file, &b->sig, b->sig_file, why, sizeof why)) {
      fprintf(stderr, "mlpbench compare: %s/%s: not comparable: %s (--force compares anyway)\n",
              a->workload, a->backend, why);
      goto done;
    }
  }
  printf("| workload | backend | base median | new median | change | p-value | n | verdict |\n"
         "|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < base.n; i++) {
    pool *a = &base.p[i], *b = find_pool(&cur, a->workload, a->backend, 0);
    if (!b) continue;
    if (paired) {
      int r = compare_paired(a, b, alpha, min_effect);
      if (r < 0) goto done;
      regressions += r == 1;
      compared++;
      continue;
    }
    /* the unit of replication: whole runs when there are enough of them */
    int by_run = a->n_runs >= 3 && b->n_runs >= 3;
    const double *xa = by_run ? a->runs : a->x, *xb = by_run ? b->runs : b->x;
    int na = by_run ? a->n_runs : a->n, nb = by_run ? b->n_runs : b->n;
    if (na < 3 || nb < 3) {
      printf("| %s | %s | | | | | %d / %d | too few samples |\n", a->workload, a->backend, na, nb);
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
    printf("| %s | %s | %s | %s | %+.1f%% | %.3g | %d / %d %s | %s |\n", a->workload, a->backend,
           ta, tb, change * 100, m.p, na, nb, by_run ? "runs" : "samples", verdict);
    compared++;
  }
  if (!compared) {
    fprintf(stderr, "mlpbench compare: no workload x backend with enough samples in both\n");
    goto done;
  }
  printf("\n%d compared, %d regression(s) (alpha %.3g, minimum effect %.0f%%)\n", compared,
         regressions, alpha, min_effect * 100);
  print_memory(&base, &cur);
  rc = regressions ? EXIT_CHECK : EXIT_OK;
done:
  pools_free(&base);
  pools_free(&cur);
  return rc;
}
