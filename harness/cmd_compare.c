/* mlpbench compare BASE NEW: the regression gate. For every workload x backend in both,
 * a two-sided Mann-Whitney U test on the per-epoch samples plus a minimum change of the
 * median; a regression needs both. BASE and NEW may each be a comma-separated list of
 * results files, whose samples are pooled (interleaved A/B runs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mwu.h"
#include "results.h"
#include "stats.h"
#include "table.h"

typedef struct {
  char workload[8], backend[24];
  double *x; /* every per-epoch sample */
  int n, cap;
  double *runs; /* one median per results file (process run) */
  int n_runs, cap_runs;
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

/* Reads every file of a comma list; only rows that ran and passed their check count. */
static int load_side(const char *list, pools *ps) {
  char buf[4096], err[1024];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
    report r;
    if (results_read(f, &r, err, sizeof err)) {
      fprintf(stderr, "mlpbench compare: %s\n", err);
      return -1;
    }
    for (int w = 0; w < r.n_wl; w++)
      for (int k = 0; k < r.wl[w].n_rows; k++) {
        report_row *row = &r.wl[w].rows[k];
        if (!row->ran || (row->gc_done && !row->gc.pass)) continue;
        pool *p = find_pool(ps, r.wl[w].name, row->backend, 1);
        if (!p || pool_add(p, row->samples, row->n_samples) ||
            (row->n_samples && pool_add_run(p, row->st.median))) {
          report_free(&r);
          fprintf(stderr, "mlpbench compare: out of memory\n");
          return -1;
        }
      }
    report_free(&r);
  }
  return 0;
}

int cmd_compare(int argc, char **argv) {
  double alpha = 0.05, min_effect = 0.05;
  const char *files[2] = {NULL, NULL};
  int nf = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: mlpbench compare BASE.json[,BASE2.json...] NEW.json[,NEW2.json...] "
             "[--alpha P] [--min-effect F]\n\n"
             "For every workload x backend in both: a two-sided Mann-Whitney U test. With at "
             "least 3 files a side the\nunit is the run (one median per file: samples of one "
             "process are not independent); otherwise\nthe per-epoch samples, as "
             "google/benchmark's compare.py does. A regression is p < alpha (0.05)\nand a "
             "median slower by more than min-effect (0.05 = 5%%).\n\n"
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
  if (load_side(files[0], &base) || load_side(files[1], &cur)) goto done;
  printf("| workload | backend | base median | new median | change | p-value | n | verdict |\n"
         "|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < base.n; i++) {
    pool *a = &base.p[i], *b = find_pool(&cur, a->workload, a->backend, 0);
    if (!b) continue;
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
  rc = regressions ? EXIT_CHECK : EXIT_OK;
done:
  pools_free(&base);
  pools_free(&cur);
  return rc;
}
