#define _GNU_SOURCE
#include "history.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../stats/mwu.h"
#include "../stats/stats.h"
#include "../sys/term_text.h"
#include "results.h"
#include "run_identity.h"
#include "wl_identity.h"

/* "2026-11-27T10:20:34Z" or "...+01:00" into seconds since 1970; NAN when unreadable. */
static double parse_date(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *rest = s && *s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (!rest) return NAN;
  double t = (double)timegm(&tm);
  if ((rest[0] == '+' || rest[0] == '-') && strlen(rest) >= 6) {
    int hh = atoi(rest + 1), mm = atoi(rest + 4), sign = rest[0] == '-' ? -1 : 1;
    t -= sign * (hh * 3600.0 + mm * 60.0);
  }
  return t;
}

/* the workload part of the key: compare's own notion of the same workload */
static int same_workload(const hist_series *s, const report_workload *w) {
  wl_identity id;
  char why[8];
  wl_identity_of(w, &id);
  return !wl_identity_diff(&s->id, "", &id, "", why, sizeof why);
}

/* the machine part: compare's own notion of the same machine; the host name is no part */
static int same_machine(const hist_series *s, const report *r, const report_row *row) {
  machine_id m;
  char why[8];
  machine_id_of(r, row, &m);
  return !machine_id_diff(&s->machine, "", &m, "", why, sizeof why);
}

static int same_series(const hist_series *s, const report *r, const report_workload *w,
                       const report_row *row) {
  return strcmp(s->workload, w->name) == 0 && strcmp(s->backend, row->backend) == 0 &&
         same_machine(s, r, row) && same_workload(s, w);
}

static hist_series *series_for(history *h, const report *r, const report_workload *w,
                               const report_row *row) {
  for (int i = 0; i < h->n; i++)
    if (same_series(&h->s[i], r, w, row)) return &h->s[i];
  if (h->n == h->cap) {
    int nc = h->cap ? 2 * h->cap : 16;
    hist_series *ns = realloc(h->s, (size_t)nc * sizeof *ns);
    if (!ns) return NULL;
    h->s = ns;
    h->cap = nc;
  }
  hist_series *s = &h->s[h->n++];
  memset(s, 0, sizeof *s);
  snprintf(s->workload, sizeof s->workload, "%s", w->name);
  snprintf(s->backend, sizeof s->backend, "%s", row->backend);
  snprintf(s->host, sizeof s->host, "%s", r->ctx.host);
  machine_id_of(r, row, &s->machine);
  snprintf(s->dataset, sizeof s->dataset, "%s", w->dataset);
  wl_identity_of(w, &s->id);
  return s;
}

static int add_point(hist_series *s, const report *r, const report_row *row, const char *file) {
  if (s->n == s->cap) {
    int nc = s->cap ? 2 * s->cap : 16;
    hist_point *np = realloc(s->pts, (size_t)nc * sizeof *np);
    if (!np) return -1;
    s->pts = np;
    s->cap = nc;
  }
  hist_point *p = &s->pts[s->n];
  memset(p, 0, sizeof *p);
  p->median = row->st.median;
  p->q1 = row->st.q1;
  p->q3 = row->st.q3;
  snprintf(p->commit, sizeof p->commit, "%s", r->ctx.commit);
  snprintf(p->commit_date, sizeof p->commit_date, "%s", r->ctx.commit_date);
  snprintf(p->date, sizeof p->date, "%s", r->ctx.date);
  snprintf(p->host, sizeof p->host, "%s", r->ctx.host);
  double cd = parse_date(r->ctx.commit_date), rd = parse_date(r->ctx.date);
  p->when = isfinite(cd) ? cd : isfinite(rd) ? rd : 0.0;
  if (!(p->file = strdup(file))) return -1;
  s->n++;
  return 0;
}

/* One row into its series, unless that run was read before: 0, or -1 when out of memory. */
static int add_row(history *h, const report *r, const report_workload *w, const report_row *row,
                   const char *path) {
  int fresh = run_set_add(&h->seen, run_fingerprint(r, w, row));
  if (fresh < 0) return -1;
  if (!fresh) { /* counted twice it would halve the noise estimate and fake a step */
    h->duplicates++;
    return 0;
  }
  hist_series *s = series_for(h, r, w, row);
  return !s || add_point(s, r, row, path) ? -1 : 0;
}

static int add_file(history *h, const char *path, FILE *log) {
  report r;
  char err[1024], shown[1024];
  if (results_read(path, &r, err, sizeof err)) {
    fprintf(log, "history: skipped %s\n", term_text(shown, sizeof shown, err));
    h->files_skipped++;
    return 0;
  }
  h->files_read++;
  for (int w = 0; w < r.n_wl; w++)
    for (int k = 0; k < r.wl[w].n_rows; k++) {
      const report_row *row = &r.wl[w].rows[k];
      /* a run that failed, or whose gradients failed their check, has no speed to track */
      if (!row->ran || !row->n_samples || (row->gc_done && !row->gc.pass) || !(row->st.median > 0))
        continue;
      if (add_row(h, &r, &r.wl[w], row, path)) {
        report_free(&r);
        return -1;
      }
    }
  report_free(&r);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int history_add_path(history *h, const char *path, FILE *log) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return add_file(h, path, log);
  DIR *d = opendir(path);
  if (!d) {
    char shown[1024];
    fprintf(log, "history: skipped %s: cannot read the folder\n",
            term_text(shown, sizeof shown, path));
    h->files_skipped++;
    return 0;
  }
  char **names = NULL;
  int n = 0, cap = 0, rc = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = realloc(names, (size_t)cap * sizeof *nn);
      if (!nn) {
        rc = -1;
        break;
      }
      names = nn;
    }
    if (asprintf(&names[n], "%s/%s", path, e->d_name) < 0) {
      rc = -1;
      break;
    }
    n++;
  }
  closedir(d);
  if (names) qsort(names, (size_t)n, sizeof *names, by_name); /* a stable order to read in */
  for (int i = 0; i < n; i++) {
    if (!rc) rc = add_file(h, names[i], log);
    free(names[i]);
  }
  free(names);
  return rc;
}

static int by_when(const void *a, const void *b) {
  const hist_point *x = a, *y = b;
  if (x->when != y->when) return x->when < y->when ? -1 : 1;
  return strcmp(x->date, y->date); /* the same commit twice: by run date, both kept */
}

/* ---- step detection ---- */

static double sigma_of(const double *y, int n) {
  if (n < 3) return 0.01;
  double *d = malloc((size_t)(n - 1) * sizeof *d);
  if (!d) return 0.01;
  for (int i = 1; i < n; i++)
    d[i - 1] = fabs(y[i] - y[i - 1]);
  double s = 1.4826 * stats_summarize(d, n - 1).median / sqrt(2.0);
  free(d);
  return s > 0.002 ? s : 0.002; /* no machine is quieter than 0.2% run to run */
}

/* What every level of the segmentation shares: the series, its prefix sums (cs[i] is the sum
 * of y[0..i), so any segment's mean costs O(1)) and the gates. */
typedef struct {
  const double *y, *cs;
  double sigma, penalty, min_effect;
} seg_ctx;

static double seg_sum(const seg_ctx *c, int a, int b) {
  return c->cs[b] - c->cs[a];
}

/* The split at k between [l0, k) and [k, r1) stands when the level moves by more than the
 * minimum effect and the U test separates the sides (at most 10 runs each, nearest k). */
static int split_stands(const double *y, int l0, int k, int r1, double min_effect) {
  l0 = k - l0 > 10 ? k - 10 : l0;
  r1 = r1 - k > 10 ? k + 10 : r1;
  double lm = stats_summarize(y + l0, k - l0).median;
  double rm = stats_summarize(y + k, r1 - k).median;
  if (fabs(exp(rm - lm) - 1.0) <= min_effect) return 0;
  mwu_result u;
  return !mwu_test(y + l0, k - l0, y + k, r1 - k, &u) && u.p < 0.05;
}

/* What cutting out [i, j) of [a, b) saves of the squared error, less the cuts' penalty (j == b:
 * one cut at i; else two, a level of its own in [i, j)). */
static double cut_gain(const seg_ctx *c, int a, int b, int i, int j) {
  double n = b - a, len = j - i, in_sum = seg_sum(c, i, j);
  double in = in_sum / len, out = (seg_sum(c, a, b) - in_sum) / (n - len);
  double cost = (j == b ? 1 : 2) * c->penalty * c->sigma * c->sigma;
  return len * (n - len) / n * (in - out) * (in - out) - cost;
}

/* the best end j of a level starting at i, among [i + MIN_SEG, b - MIN_SEG] */
static int best_end(const seg_ctx *c, int a, int b, int i, double *g) {
  int best = -1;
  for (int j = i + HISTORY_MIN_SEG; j <= b - HISTORY_MIN_SEG; j++) {
    double v = cut_gain(c, a, b, i, j);
    if (best < 0 || v > *g) *g = v, best = j;
  }
  return best;
}

/* the best start i of a level ending at j, among [a + MIN_SEG, j - MIN_SEG] */
static int best_start(const seg_ctx *c, int a, int b, int j, double *g) {
  int best = -1;
  for (int i = a + HISTORY_MIN_SEG; i <= j - HISTORY_MIN_SEG; i++) {
    double v = cut_gain(c, a, b, i, j);
    if (best < 0 || v > *g) *g = v, best = i;
  }
  return best;
}

/* The double cut by coordinate ascent from (i, j): each step the best j for i, then the best
 * i for that j, until neither moves; every step O(n), and the gain never falls. */
static double ascend(const seg_ctx *c, int a, int b, int *i, int *j) {
  double g = -INFINITY;
  for (int round = 0; round < 16; round++) {
    double gj = -INFINITY, gi = -INFINITY;
    int nj = best_end(c, a, b, *i, &gj);
    if (nj < 0) break;
    int ni = best_start(c, a, b, nj, &gi);
    if (ni < 0) break;
    int moved = ni != *i || nj != *j;
    *i = ni;
    *j = nj;
    g = gi;
    if (!moved) break;
  }
  return g;
}

/* Where a level of its own most likely begins and ends in [lo, hi) of the segment [a, b):
 * the extremes of the centred cumulative sum there (the classic CBS statistic), clamped so
 * that every side may stand. */
static void level_guess(const seg_ctx *c, int a, int b, int lo, int hi, int *i, int *j) {
  double mean = seg_sum(c, lo, hi) / (hi - lo), vlo = 0, vhi = 0;
  int klo = lo, khi = lo;
  for (int k = lo; k <= hi; k++) {
    double v = seg_sum(c, lo, k) - (k - lo) * mean;
    if (v < vlo) vlo = v, klo = k;
    if (v > vhi) vhi = v, khi = k;
  }
  *i = klo < khi ? klo : khi;
  *j = klo < khi ? khi : klo;
  if (*i < a + HISTORY_MIN_SEG) *i = a + HISTORY_MIN_SEG;
  if (*i > b - 2 * HISTORY_MIN_SEG) *i = b - 2 * HISTORY_MIN_SEG;
  if (*j < *i + HISTORY_MIN_SEG) *j = *i + HISTORY_MIN_SEG;
  if (*j > b - HISTORY_MIN_SEG) *j = b - HISTORY_MIN_SEG;
}

/* The level of its own [i, j) with the largest gain among windows of lengths MIN_SEG, ...
 * each 1/8 longer than the last: O(n log n), and a start the ascent refines. */
static void best_window(const seg_ctx *c, int a, int b, int *bi, int *bj) {
  double best = -INFINITY;
  *bi = a + HISTORY_MIN_SEG;
  *bj = *bi + HISTORY_MIN_SEG;
  for (int len = HISTORY_MIN_SEG; len <= b - a - 2 * HISTORY_MIN_SEG; len += 1 + len / 8)
    for (int i = a + HISTORY_MIN_SEG; i + len <= b - HISTORY_MIN_SEG; i++) {
      double g = cut_gain(c, a, b, i, i + len);
      if (g > best) best = g, *bi = i, *bj = i + len;
    }
}

/* [a, b) cut at one place (k2 == b) or two (a level of its own in [k1, k2), the rest apart:
 * binary segmentation alone misses a step that is later undone); the cut that most reduces
 * the squared error, each extra cut paying the penalty again. The single cut is searched
 * exhaustively, the double by ascent from a few starts, so the search is O(n log n), not the
 * O(n^2) of every pair. 0 when none passes. */
static int best_cut(const seg_ctx *c, int a, int b, int *k1, int *k2) {
  double best = 0.0;
  int found = 0;
  for (int i = a + HISTORY_MIN_SEG; i <= b - HISTORY_MIN_SEG; i++) {
    double g = cut_gain(c, a, b, i, b);
    if (g > best) best = g, *k1 = i, *k2 = b, found = 1;
  }
  if (b - a >= 3 * HISTORY_MIN_SEG) {
    /* where to start: the best window of each length (lengths 1/8 apart: a short level in
     * long noise shows there), the level's guess in the whole segment, and on either side of
     * the best single cut (a step elsewhere dominates the whole segment's cumulative sum) */
    int starts[4][2], n_starts = 1, k = found ? *k1 : a;
    best_window(c, a, b, &starts[0][0], &starts[0][1]);
    level_guess(c, a, b, a, b, &starts[n_starts][0], &starts[n_starts][1]), n_starts++;
    if (k - a >= 3 * HISTORY_MIN_SEG)
      level_guess(c, a, b, a, k, &starts[n_starts][0], &starts[n_starts][1]), n_starts++;
    if (found && b - k >= 3 * HISTORY_MIN_SEG)
      level_guess(c, a, b, k, b, &starts[n_starts][0], &starts[n_starts][1]), n_starts++;
    for (int s = 0; s < n_starts; s++) {
      int i = starts[s][0], j = starts[s][1];
      double g = ascend(c, a, b, &i, &j);
      if (g > best) best = g, *k1 = i, *k2 = j, found = 1;
    }
  }
  if (!found) return 0;
  if (!split_stands(c->y, a, *k1, *k2, c->min_effect)) return 0;
  return *k2 == b || split_stands(c->y, *k1, *k2, b, c->min_effect);
}

static void segment(const seg_ctx *c, int a, int b, int *steps, int *n, int max) {
  int k1 = a, k2 = b;
  if (*n >= max || b - a < 2 * HISTORY_MIN_SEG) return;
  if (!best_cut(c, a, b, &k1, &k2)) return;
  steps[(*n)++] = k1;
  if (k2 < b && *n < max) steps[(*n)++] = k2;
  segment(c, a, k1, steps, n, max);
  segment(c, k1, k2, steps, n, max);
  if (k2 < b) segment(c, k2, b, steps, n, max);
}

static int by_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

int history_detect(const double *y, int n, double min_effect, int *steps, int max_steps) {
  int found = 0;
  if (n < 2 * HISTORY_MIN_SEG) return 0;
  double *cs = malloc((size_t)(n + 1) * sizeof *cs);
  if (!cs) return 0;
  cs[0] = 0.0;
  for (int i = 0; i < n; i++)
    cs[i + 1] = cs[i] + y[i];
  seg_ctx c = {y, cs, sigma_of(y, n), HISTORY_PENALTY * log((double)n), min_effect};
  segment(&c, 0, n, steps, &found, max_steps);
  free(cs);
  qsort(steps, (size_t)found, sizeof *steps, by_int);
  return found;
}

double history_step_change(const hist_series *s, int k) {
  int at = s->steps[k], lo = k ? s->steps[k - 1] : 0;
  int hi = k + 1 < s->n_steps ? s->steps[k + 1] : s->n;
  double *v = malloc((size_t)s->n * sizeof *v);
  if (!v) return NAN;
  for (int i = lo; i < hi; i++)
    v[i - lo] = s->pts[i].median;
  double before = stats_summarize(v, at - lo).median;
  double after = stats_summarize(v + (at - lo), hi - at).median;
  free(v);
  return after / before - 1.0;
}

void history_finish(history *h, double min_effect) {
  for (int i = 0; i < h->n; i++) {
    hist_series *s = &h->s[i];
    qsort(s->pts, (size_t)s->n, sizeof *s->pts, by_when);
    if (s->n) snprintf(s->host, sizeof s->host, "%s", s->pts[s->n - 1].host); /* the label */
    double *y = malloc((size_t)(s->n ? s->n : 1) * sizeof *y);
    if (!y) continue;
    for (int k = 0; k < s->n; k++)
      y[k] = log(s->pts[k].median);
    s->n_steps = history_detect(y, s->n, min_effect, s->steps, HISTORY_MAX_STEPS);
    free(y);
  }
}

int history_slower_now(const hist_series *s, int since) {
  if (!s->n_steps) return 0;
  int k = s->n_steps - 1;
  if (since > 0 && s->steps[k] < s->n - since) return 0;
  return history_step_change(s, k) > 0;
}

void history_free(history *h) {
  for (int i = 0; i < h->n; i++) {
    for (int k = 0; k < h->s[i].n; k++)
      free(h->s[i].pts[k].file);
    free(h->s[i].pts);
  }
  free(h->s);
  run_set_free(&h->seen);
  memset(h, 0, sizeof *h);
}
