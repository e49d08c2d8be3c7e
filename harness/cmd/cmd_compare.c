/* mlpbench compare BASE NEW: the regression gate. For every workload x backend in both,
 * a two-sided Mann-Whitney U test on the per-epoch samples plus a minimum change of the
 * median; a regression needs both. BASE and NEW may each be a comma-separated list of
 * results files, whose samples are pooled (interleaved A/B runs). Rows are compared only
 * when workload (wl_identity.h) and machine (run_identity.h) agree; the same run named twice
 * on one side counts once. A row the data cannot judge says so and is never "same": sizes
 * whose smallest attainable p is not below alpha, paired rounds whose spread cannot rule out
 * a slowdown of twice the minimum effect, and rows a run marked disturbed (machine busy).
 * Every string from a results file reaches the terminal through term_text, and JSON
 * through utf8_clean. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
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
  int *run_busy; /* whether that run was marked disturbed (machine busy) */
  int n_runs, cap_runs;
  int busy;                 /* rows marked disturbed */
  char busy_reason[256];    /* the first one's reason */
  int pairs_dropped;        /* --paired: rounds where one file of the pair lacks this row */
  int pairs_busy;           /* --paired: rounds dropped because a run of the pair was disturbed */
  int pairs_busy_kept;      /* --paired --metric cpu: such rounds kept (CPU time does not wait) */
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

static int pool_add_run(pool *p, double median, int file, int busy) {
  if (p->n_runs == p->cap_runs) {
    int nc = p->cap_runs ? p->cap_runs * 2 : 8;
    double *nr = realloc(p->runs, (size_t)nc * sizeof *nr);
    if (!nr) return -1;
    p->runs = nr;
    int *nf = realloc(p->run_file, (size_t)nc * sizeof *nf);
    if (!nf) return -1;
    p->run_file = nf;
    int *nb = realloc(p->run_busy, (size_t)nc * sizeof *nb);
    if (!nb) return -1;
    p->run_busy = nb;
    p->cap_runs = nc;
  }
  p->run_busy[p->n_runs] = busy;
  p->run_file[p->n_runs] = file;
  p->runs[p->n_runs++] = median;
  return 0;
}

static void pools_free(pools *ps) {
  for (int i = 0; i < ps->n; i++) {
    free(ps->p[i].x);
    free(ps->p[i].runs);
    free(ps->p[i].run_file);
    free(ps->p[i].run_busy);
  }
  free(ps->p);
  run_set_free(&ps->seen);
  memset(ps, 0, sizeof *ps);
}

/* Bounds what one side may pool: the test is O(n log n), but memory and reading are not free. */
#define COMPARE_MAX_SAMPLES 10000000

/* Memory beside the gate: the largest peak RSS growth and device memory of each side. */
static void print_memory(FILE *out, const pools *base, const pools *cur) {
  int any = 0;
  for (int i = 0; i < base->n; i++) {
    const pool *a = &base->p[i], *b = find_pool((pools *)cur, a->workload, a->backend, 0);
    if (!b || (isnan(a->mem_host) && isnan(b->mem_host) && isnan(a->mem_dev) && isnan(b->mem_dev)))
      continue;
    if (!any++)
      fprintf(
          out,
          "\nmemory (largest of each side; not gated)\n\n| workload | backend | base RSS growth | "
          "new RSS growth | base device | new device |\n|---|---|---|---|---|---|\n");
    char c[4][32], wl[64], be[64];
    table_fmt_mib(c[0], sizeof c[0], a->mem_host);
    table_fmt_mib(c[1], sizeof c[1], b->mem_host);
    table_fmt_mib(c[2], sizeof c[2], a->mem_dev);
    table_fmt_mib(c[3], sizeof c[3], b->mem_dev);
    fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", md_cell(wl, sizeof wl, a->workload),
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

/* One row of file f (index fi in its side's list) into its pool: its wall-time samples, or
 * with cpu its per-epoch CPU time (the process's, all threads). 0, or -1 after a message. */
static int load_row(pools *ps, const report *r, const report_workload *w, const report_row *row,
                    const char *f, int fi, int force, int cpu) {
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
  if (row->disturbed && !p->busy++)
    snprintf(p->busy_reason, sizeof p->busy_reason, "%s", row->disturbed_reason);
  const double *x = cpu ? row->cpu_samples : row->samples;
  const int n0 = p->n;
  if (pool_add(p, x, row->n_samples)) { /* the finite ones: a file may lack a CPU figure */
    fprintf(stderr, "mlpbench compare: out of memory\n");
    return -1;
  }
  const double median = cpu ? stats_summarize(p->x + n0, p->n - n0).median : row->st.median;
  if (p->n > n0 && pool_add_run(p, median, fi, row->disturbed)) {
    fprintf(stderr, "mlpbench compare: out of memory\n");
    return -1;
  }
  return 0;
}

/* Reads every file of a comma list; only rows that ran and passed their check count. Rows of
 * one workload x backend must describe the same workload on the same machine in every file
 * (else -1). */
static int load_side(const char *list, pools *ps, int force, int cpu) {
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
        if (load_row(ps, &r, &r.wl[w], row, f, fi, force, cpu)) {
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

/* One row's verdict. Where the data cannot judge, the row says why and never "same". */
typedef enum { V_SAME, V_SAME_SMALL, V_FASTER, V_REGRESSION, V_INCONCLUSIVE, V_NOT_JUDGED } vkind;
static const char *const vkey[] = {"same",       "same_under_min_effect", "faster",
                                   "regression", "inconclusive",          "not_judged"};

typedef struct {
  const pool *a, *b;
  double ma, mb;    /* medians (of runs, samples, or the runs of the pairs); NaN: none */
  double change, p; /* NaN: none */
  double lo, hi;    /* --paired: the confidence interval of the median ratio - 1; NaN: none */
  int na, nb;       /* values a side (pairs: both are the pairs that counted) */
  const char *unit; /* "runs", "samples", "pairs" */
  vkind v;
  int need;      /* an inconclusive size: the fewest a side (or pairs) that can reach alpha */
  char why[512]; /* the words after an inconclusive or not-judged key (raw, made safe on output) */
} verdict;

/* The verdict of a test that could reach alpha: p and the median change against the minimum
 * effect. */
static vkind judge(double p, double change, double alpha, double min_effect) {
  if (p < alpha && change > min_effect) return V_REGRESSION;
  if (p < alpha && change < -min_effect) return V_FASTER;
  return p < alpha ? V_SAME_SMALL : V_SAME;
}

/* The pairs of --paired: round i is file i of BASE with file i of NEW. A round where one
 * file lacks the row is dropped, never filled from the next round: shifted pairs would pair
 * runs of different rounds, and phase drift between rounds would then read as a change. A
 * round where either run was marked disturbed is dropped too (machine busy: the load, not
 * the code, may have moved it), unless keep_busy: CPU time does not count the waiting for a
 * core that marks a run disturbed, and what load adds to it (shared caches) hits both runs
 * of a round alike, so the round is kept and counted. The log ratios go into d (n_files entries),
 * the runs' medians into ra and rb; returns their count, or -1 when a file holds the row twice
 * (which of them pairs is unknowable). */
static int paired_ratios(pool *a, const pool *b, int n_files, int keep_busy, double *d,
                         double *ra_out, double *rb_out) {
  int n = 0;
  a->pairs_dropped = a->pairs_busy = a->pairs_busy_kept = 0;
  for (int i = 0; i < n_files; i++) {
    double ra = NAN, rb = NAN;
    int busy = 0;
    for (int k = 0; k < a->n_runs; k++)
      if (a->run_file[k] == i) {
        if (!isnan(ra)) return -1;
        ra = a->runs[k];
        busy |= a->run_busy[k];
      }
    for (int k = 0; k < b->n_runs; k++)
      if (b->run_file[k] == i) {
        if (!isnan(rb)) return -1;
        rb = b->runs[k];
        busy |= b->run_busy[k];
      }
    if (isnan(ra) || isnan(rb)) {
      a->pairs_dropped += !isnan(ra) || !isnan(rb);
      continue;
    }
    if (busy && keep_busy) {
      a->pairs_busy_kept++;
    } else if (busy) {
      a->pairs_busy++;
      continue;
    }
    ra_out[n] = ra;
    rb_out[n] = rb;
    d[n++] = log(rb / ra);
  }
  return n;
}

/* --paired: file i of BASE and file i of NEW ran next to each other (an A/B round), so the
 * unit is the pair: the log ratio of their run medians, tested against 0 with the Wilcoxon
 * signed-rank test; the effect is the median ratio. Phase drift that moves both runs of a
 * pair cancels. A pass ("same") also needs the pairs' spread to rule out a slowdown of twice
 * the minimum effect: the distribution-free confidence interval of the median ratio must end
 * below it, else the row is inconclusive (load made the pairs too noisy to see one).
 * 0, or -1 when unusable (a message said why). */
static int compare_paired(pool *a, const pool *b, int n_files, int cpu, double alpha,
                          double min_effect, verdict *v) {
  const int cap = n_files ? n_files : 1;
  double *d = malloc((size_t)cap * 3 * sizeof *d);
  if (!d) return -1;
  double *ra = d + cap, *rb = d + 2 * cap;
  const int n = paired_ratios(a, b, n_files, cpu, d, ra, rb);
  if (n < 0) {
    fprintf(stderr, "mlpbench compare: %s/%s: --paired: a file holds this row twice\n",
            TERM_TEXT(a->workload), TERM_TEXT(b->backend));
    free(d);
    return -1;
  }
  v->unit = "pairs";
  v->na = v->nb = n;
  if (n > 0) {
    v->ma = stats_summarize(ra, n).median;
    v->mb = stats_summarize(rb, n).median;
    v->change = exp(stats_summarize(d, n).median) - 1.0;
    wilcoxon_result w;
    if (wilcoxon_test(d, n, &w)) {
      free(d);
      return -1;
    }
    v->p = w.p;
  }
  const int need = wilcoxon_min_n(alpha);
  double lo, hi;
  if (!(wilcoxon_min_p(n) < alpha)) {
    v->need = need;
    if (a->pairs_busy) {
      v->v = V_NOT_JUDGED;
      snprintf(v->why, sizeof v->why,
               "machine busy: %d of %d pairs had a disturbed run (%s); the %d left cannot reach "
               "p < %g, need at least %d",
               a->pairs_busy, a->pairs_busy + n, a->busy ? a->busy_reason : b->busy_reason, n,
               alpha, need);
    } else {
      v->v = V_INCONCLUSIVE;
      snprintf(v->why, sizeof v->why, "%d pairs cannot reach p < %g; need at least %d", n, alpha,
               need);
    }
  } else {
    v->v = judge(v->p, v->change, alpha, min_effect);
    int ci = stats_median_ci(d, n, alpha, &lo, &hi);
    if (ci == 0) {
      v->lo = exp(lo) - 1.0;
      v->hi = exp(hi) - 1.0;
    }
    if ((v->v == V_SAME || v->v == V_SAME_SMALL) && (ci || v->hi > 2 * min_effect)) {
      v->v = V_INCONCLUSIVE;
      snprintf(v->why, sizeof v->why,
               "the pairs' spread leaves up to %+.1f%% possible (%.0f%% interval of the median "
               "ratio); a pass must rule out %+.0f%%",
               ci ? INFINITY : v->hi * 100, (1 - alpha) * 100, 2 * min_effect * 100);
    }
  }
  free(d);
  return 0;
}

/* Unpaired: one Mann-Whitney U test on runs (3 or more files a side) or samples. */
static int compare_unpaired(const pool *a, const pool *b, double alpha, double min_effect,
                            verdict *v) {
  /* the unit of replication: whole runs when there are enough of them */
  int by_run = a->n_runs >= 3 && b->n_runs >= 3;
  const double *xa = by_run ? a->runs : a->x, *xb = by_run ? b->runs : b->x;
  v->na = by_run ? a->n_runs : a->n;
  v->nb = by_run ? b->n_runs : b->n;
  v->unit = by_run ? "runs" : "samples";
  if (v->na > 0 && v->nb > 0) {
    mwu_result m;
    if (mwu_test(xa, v->na, xb, v->nb, &m)) return -1;
    v->p = m.p;
    v->ma = stats_summarize(xa, v->na).median;
    v->mb = stats_summarize(xb, v->nb).median;
    v->change = v->mb / v->ma - 1.0;
  }
  if (a->busy || b->busy) {
    const pool *q = a->busy ? a : b;
    v->v = V_NOT_JUDGED;
    snprintf(v->why, sizeof v->why, "machine busy: %d of %d %s run(s) disturbed (%s)", q->busy,
             q->n_runs, q == a ? "BASE" : "NEW", q->busy_reason);
  } else if (!(mwu_min_p(v->na, v->nb) < alpha)) {
    v->v = V_INCONCLUSIVE;
    v->need = mwu_min_n(alpha);
    if (v->na == v->nb)
      snprintf(v->why, sizeof v->why, "%d %s a side cannot reach p < %g; need at least %d", v->na,
               v->unit, alpha, v->need);
    else
      snprintf(v->why, sizeof v->why, "%d and %d %s cannot reach p < %g; need at least %d a side",
               v->na, v->nb, v->unit, alpha, v->need);
  } else {
    v->v = judge(v->p, v->change, alpha, min_effect);
  }
  return 0;
}

/* What was left out, said after the table: pairs dropped, duplicates dropped, rows of one
 * side only. */
static void print_dropped(FILE *out, const pools *base, const pools *cur) {
  for (int i = 0; i < base->n; i++) {
    const pool *a = &base->p[i];
    if (a->pairs_dropped)
      fprintf(out, "%s/%s: %d pair(s) dropped (the row missing from one file of the round)\n",
              TERM_TEXT(a->workload), TERM_TEXT(a->backend), a->pairs_dropped);
    if (a->pairs_busy)
      fprintf(out,
              "%s/%s: %d pair(s) dropped (a run of the round marked disturbed: machine busy)\n",
              TERM_TEXT(a->workload), TERM_TEXT(a->backend), a->pairs_busy);
    if (a->pairs_busy_kept)
      fprintf(out,
              "%s/%s: %d pair(s) with a run marked disturbed, kept: judged on CPU time, which "
              "does not count the waiting for a core\n",
              TERM_TEXT(a->workload), TERM_TEXT(a->backend), a->pairs_busy_kept);
  }
  if (base->dups || cur->dups)
    fprintf(out,
            "%d duplicate run(s) dropped from BASE, %d from NEW (a row of a run already read on "
            "that side: a file named twice, or a copy)\n",
            base->dups, cur->dups);
  const pools *side[2] = {base, cur};
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < side[s]->n; i++) {
      const pool *p = &side[s]->p[i];
      if (!find_pool((pools *)side[!s], p->workload, p->backend, 0))
        fprintf(out, "only in %s, not compared: %s/%s\n", s ? "NEW" : "BASE",
                TERM_TEXT(p->workload), TERM_TEXT(p->backend));
    }
}

/* "W/B, W/B" of a side's rows, for the no-rows-in-common message. */
static void list_rows(char *out, size_t len, const pools *ps) {
  size_t at = 0;
  out[0] = 0;
  for (int i = 0; i < ps->n && at < len; i++)
    at += (size_t)snprintf(out + at, len - at, "%s%s/%s", i ? ", " : "",
                           TERM_TEXT(ps->p[i].workload), TERM_TEXT(ps->p[i].backend));
  if (!ps->n) snprintf(out, len, "none");
}

static json_t *jnum(double x) {
  return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jstr(const char *s) {
  char clean[3 * 512 + 1];
  return json_string(utf8_clean(clean, sizeof clean, s));
}

static json_t *side_only_json(const pools *mine, const pools *other) {
  json_t *l = json_array();
  for (int i = 0; i < mine->n; i++)
    if (!find_pool((pools *)other, mine->p[i].workload, mine->p[i].backend, 0))
      json_array_append_new(l, json_pack("{s:o,s:o}", "workload", jstr(mine->p[i].workload),
                                         "backend", jstr(mine->p[i].backend)));
  return l;
}

/* --format json: the verdicts for a CI job (the schema is in README's compare section). */
static int write_json(FILE *out, const verdict *vs, int nv, const pools *base, const pools *cur,
                      int paired, int cpu, double alpha, double min_effect, int single, int rc) {
  json_t *rows = json_array();
  int count[6] = {0};
  for (int i = 0; i < nv; i++) {
    const verdict *v = &vs[i];
    count[v->v]++;
    json_t *ci = isfinite(v->lo) && isfinite(v->hi) ? json_pack("[o,o]", jnum(v->lo), jnum(v->hi))
                                                    : json_null();
    json_array_append_new(
        rows, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:s,s:s,s:o,s:o,s:i}", "workload",
                        jstr(v->a->workload), "backend", jstr(v->a->backend), "base_median_s",
                        jnum(v->ma), "new_median_s", jnum(v->mb), "change", jnum(v->change), "p",
                        jnum(v->p), "change_interval", ci, "n_base", v->na, "n_new", v->nb, "unit",
                        v->unit, "verdict", vkey[v->v], "reason", jstr(v->why), "need",
                        v->need ? json_integer(v->need) : json_null(), "disturbed_runs",
                        v->a->busy + v->b->busy));
  }
  json_t *j = json_pack("{s:s,s:b,s:s,s:f,s:f,s:o,s:o,s:o,s:{s:i,s:i,s:i,s:i},s:b,s:i}", "schema",
                        "mlpbench-compare-1", "paired", paired, "metric", cpu ? "cpu" : "wall",
                        "alpha", alpha, "min_effect", min_effect, "rows", rows, "only_base",
                        side_only_json(base, cur), "only_new", side_only_json(cur, base), "counts",
                        "compared", nv, "regressions", count[V_REGRESSION], "inconclusive",
                        count[V_INCONCLUSIVE], "not_judged", count[V_NOT_JUDGED], "single_runs",
                        single, "exit", rc);
  int bad = !j || json_dumpf(j, out, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0 ||
            fputc('\n', out) == EOF;
  json_decref(j);
  return bad ? -1 : 0;
}

static void write_markdown(FILE *out, const verdict *vs, int nv, const pools *base,
                           const pools *cur, int cpu, double alpha, double min_effect, int single,
                           int allow) {
  int count[6] = {0};
  if (cpu) fprintf(out, "per-epoch CPU time (--metric cpu)\n\n");
  fprintf(out, "| workload | backend | base median | new median | change | p-value | n | verdict "
               "|\n|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < nv; i++) {
    const verdict *v = &vs[i];
    count[v->v]++;
    char ta[32] = "", tb[32] = "", ch[32] = "", p[32] = "", n[64], vd[640];
    if (isfinite(v->ma)) table_fmt_time(ta, sizeof ta, v->ma);
    if (isfinite(v->mb)) table_fmt_time(tb, sizeof tb, v->mb);
    if (isfinite(v->change)) snprintf(ch, sizeof ch, "%+.1f%%", v->change * 100);
    if (isfinite(v->p)) snprintf(p, sizeof p, "%.3g", v->p);
    if (strcmp(v->unit, "pairs") == 0)
      snprintf(n, sizeof n, "%d pairs", v->na);
    else
      snprintf(n, sizeof n, "%d / %d %s", v->na, v->nb, v->unit);
    const char *word[] = {"same",         "same (shift under the minimum effect)",
                          "faster",       "**REGRESSION**",
                          "inconclusive", "not judged"};
    if (v->why[0])
      snprintf(vd, sizeof vd, "%s: %s", word[v->v], v->why);
    else
      snprintf(vd, sizeof vd, "%s", word[v->v]);
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", MD_CELL(v->a->workload),
            MD_CELL(v->a->backend), ta, tb, ch, p, n, MD_CELL(vd));
  }
  fprintf(out,
          "\n%d compared, %d regression(s), %d inconclusive, %d not judged (alpha %.3g, "
          "minimum effect %.0f%%)\n",
          nv, count[V_REGRESSION], count[V_INCONCLUSIVE], count[V_NOT_JUDGED], alpha,
          min_effect * 100);
  if (count[V_INCONCLUSIVE] + count[V_NOT_JUDGED])
    fprintf(out, "%s rows could not be judged: %s\n",
            count[V_INCONCLUSIVE] ? "inconclusive" : "not judged",
            allow ? "allowed (--allow-inconclusive)"
                  : "exit 2 (--allow-inconclusive accepts them)");
  if (single)
    fprintf(out,
            "each side is one process: drift between the two runs (another phase of a shared "
            "machine, clocks, memory placement) is uncontrolled, and one run's epochs are not "
            "independent samples; to judge a change, run `make bench-check` (paired A/B rounds "
            "in one job: harness/scripts/bench-check.sh)\n");
  print_dropped(out, base, cur);
  print_memory(out, base, cur);
}

static const cli_command compare_cmd = {
    "compare",
    "BASE.json[,BASE2.json...] NEW.json[,NEW2.json...]",
    "ayAuoGiI",
    2,
    2,
    "For every workload x backend in both: a two-sided Mann-Whitney U test. With at "
    "least 3 files a side the\nunit is the run (one median per file: samples of one "
    "process are not independent); otherwise\nthe per-epoch samples, as "
    "google/benchmark's compare.py does. A regression is p < alpha (0.05)\nand a "
    "median slower by more than min-effect (0.05 = 5%).\nRows are compared only when "
    "model, data (hash), batch and sampling agree in every file, and the\nmachine "
    "(CPU model, cores, BLAS kernel and threads, GPU; not the host name): otherwise "
    "exit 2\nnaming the difference, unless --force. The same run named twice on a "
    "side (or a copy of its\nfile) counts once; the output says how many were "
    "dropped. Rows of one side only are listed.\n--paired: file i of BASE and file i "
    "of NEW ran side by side (A/B "
    "rounds): a Wilcoxon signed-rank\ntest on the log ratios of their run medians, "
    "the effect their median ratio. Both sides need as\nmany files; a round where one "
    "file lacks a row is dropped for that row (and said), never shifted.\n"
    "A row is inconclusive, never \"same\", when its sizes cannot reach p < alpha at "
    "any effect (3 against 3\nsamples, or 5 pairs, at 0.05), or (--paired) when the "
    "pairs' spread cannot rule out a slowdown of\ntwice min-effect; a row a run "
    "marked disturbed is \"not judged: machine busy\" (--paired: its\npairs are "
    "dropped). Either exits 2 unless --allow-inconclusive.\n"
    "--metric cpu: judge the per-epoch CPU time (the process's, all threads) instead of "
    "the wall time: for\nsingle-threaded runs it is the work, which other processes' "
    "load barely moves (bench-check uses it).\n"
    "--format json: the verdicts as JSON (schema in README); --out FILE writes the "
    "output there.\n\n"
    "exit codes: 0 no regression, 1 regression, 2 unusable input, or rows that could "
    "not be judged"};

int cmd_compare(int argc, char **argv) {
  cli_opts opts;
  int rc;
  if (cli_begin(&compare_cmd, argc, argv, &opts, &rc)) return rc;
  const double alpha = opts.alpha, min_effect = opts.min_effect;
  const char *files[2] = {opts.args[0], opts.args[1]};
  const char *out_path = opts.out;
  const int force = opts.force, paired = opts.paired, allow = opts.allow_inconclusive,
            json = opts.table_format == 1, cpu = opts.metric_cpu;
  char err[1024];
  if (out_path && outfile_check(out_path, err, sizeof err)) {
    fprintf(stderr, "mlpbench compare: %s\n", TERM_TEXT(err));
    return EXIT_USAGE;
  }
  for (int s = 0; out_path && s < 2; s++) { /* --out never replaces a file it reads */
    char *buf = strdup(files[s]);
    int same = 0;
    if (!buf) return EXIT_RUNTIME;
    for (char *save = NULL, *f = strtok_r(buf, ",", &save); f && !same;
         f = strtok_r(NULL, ",", &save))
      same = outfile_same(out_path, f);
    free(buf);
    if (same) {
      fprintf(stderr, "mlpbench compare: --out %s is one of the files it reads\n",
              TERM_TEXT(out_path));
      return EXIT_USAGE;
    }
  }
  pools base = {0}, cur = {0};
  verdict *vs = NULL;
  int nv = 0, regressions = 0, unjudged = 0, single = 0;
  rc = EXIT_USAGE;
  if (load_side(files[0], &base, force, cpu) || load_side(files[1], &cur, force, cpu)) goto done;
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
  vs = calloc((size_t)(base.n ? base.n : 1), sizeof *vs);
  if (!vs) {
    fprintf(stderr, "mlpbench compare: out of memory\n");
    rc = EXIT_RUNTIME;
    goto done;
  }
  for (int i = 0; i < base.n; i++) {
    pool *a = &base.p[i], *b = find_pool(&cur, a->workload, a->backend, 0);
    if (!b) continue;
    verdict *v = &vs[nv++];
    *v = (verdict){
        .a = a, .b = b, .ma = NAN, .mb = NAN, .change = NAN, .p = NAN, .lo = NAN, .hi = NAN};
    if (paired ? compare_paired(a, b, base.n_files, cpu, alpha, min_effect, v)
               : compare_unpaired(a, b, alpha, min_effect, v))
      goto done;
    regressions += v->v == V_REGRESSION;
    unjudged += v->v == V_INCONCLUSIVE || v->v == V_NOT_JUDGED;
    single |= !paired && a->n_runs == 1 && b->n_runs == 1;
  }
  if (!nv) {
    char lb[2048], lc[2048];
    list_rows(lb, sizeof lb, &base);
    list_rows(lc, sizeof lc, &cur);
    fprintf(stderr, "mlpbench compare: no workload x backend in both: BASE has %s; NEW has %s\n",
            lb, lc);
    goto done;
  }
  rc = regressions ? EXIT_CHECK : unjudged && !allow ? EXIT_USAGE : EXIT_OK;
  outfile o = {0};
  FILE *out = stdout;
  if (out_path) {
    if (outfile_open(&o, out_path, err, sizeof err)) {
      fprintf(stderr, "mlpbench compare: %s\n", TERM_TEXT(err));
      rc = EXIT_USAGE;
      goto done;
    }
    out = o.f;
  }
  if (json) {
    if (write_json(out, vs, nv, &base, &cur, paired, cpu, alpha, min_effect, single, rc)) {
      fprintf(stderr, "mlpbench compare: could not write the JSON verdicts\n");
      if (out_path) outfile_abort(&o);
      rc = EXIT_RUNTIME;
      goto done;
    }
  } else {
    write_markdown(out, vs, nv, &base, &cur, cpu, alpha, min_effect, single, allow);
  }
  if (out_path && outfile_commit(&o, err, sizeof err)) {
    fprintf(stderr, "mlpbench compare: %s\n", TERM_TEXT(err));
    rc = EXIT_RUNTIME;
  }
done:
  free(vs);
  pools_free(&base);
  pools_free(&cur);
  return rc;
}
