#include "mwu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double v;
  int from_x;
} tagged;

static int cmp_tagged(const void *a, const void *b) {
  double x = ((const tagged *)a)->v, y = ((const tagged *)b)->v;
  return (x > y) - (x < y);
}

/* P(U >= u) for sample sizes m <= n, by counting arrangements: c_{m,n}(u) =
 * c_{m-1,n}(u-n) + c_{m,n-1}(u), built up over n for every m' <= m. */
static double exact_sf(int u, int m, int n) {
  int umax = m * n;
  if (u <= 0) return 1.0;
  if (u > umax) return 0.0;
  double *c = calloc((size_t)(m + 1) * (umax + 1), sizeof *c);
  if (!c) return NAN;
#define C(i, k) c[(size_t)(i) * (umax + 1) + (k)]
  for (int i = 0; i <= m; i++)
    C(i, 0) = 1.0;               /* n = 0: one arrangement, U = 0 */
  for (int j = 1; j <= n; j++)   /* add one value to the second sample */
    for (int i = 1; i <= m; i++) /* row i-1 already holds j values: ascending order */
      for (int k = j; k <= i * j; k++)
        C(i, k) += C(i - 1, k - j);
  /* after the loop C(m, k) counts arrangements of m and n values with U = k */
  double total = 0.0, tail = 0.0;
  for (int k = 0; k <= umax; k++) {
    total += C(m, k);
    if (k >= u) tail += C(m, k);
  }
#undef C
  free(c);
  return tail / total;
}

/* Sorts a (n entries) and returns the sum of the ranks, tie groups averaged, of the entries
 * with from_x set; *tie_term gets sum(t^3 - t) over the tie groups, *ties whether any. */
static double tagged_rank_sum(tagged *a, int n, double *tie_term, int *ties) {
  double sum = 0.0;
  *tie_term = 0.0;
  *ties = 0;
  qsort(a, (size_t)n, sizeof *a, cmp_tagged);
  for (int i = 0; i < n;) {
    int j = i;
    while (j + 1 < n && a[j + 1].v == a[i].v)
      j++;
    double rank = (i + j) / 2.0 + 1.0, t = j - i + 1;
    for (int k = i; k <= j; k++)
      if (a[k].from_x) sum += rank;
    if (t > 1) {
      *ties = 1;
      *tie_term += t * t * t - t;
    }
    i = j + 1;
  }
  return sum;
}

int mwu_test(const double *x, int n1, const double *y, int n2, mwu_result *r) {
  int n = n1 + n2;
  memset(r, 0, sizeof *r);
  if (n1 < 1 || n2 < 1) return -1;
  tagged *a = malloc((size_t)n * sizeof *a);
  if (!a) return -1;
  for (int i = 0; i < n1; i++)
    a[i] = (tagged){x[i], 1};
  for (int i = 0; i < n2; i++)
    a[n1 + i] = (tagged){y[i], 0};
  double tie_term;
  int ties;
  double r1 = tagged_rank_sum(a, n, &tie_term, &ties);
  free(a);
  double u1 = r1 - n1 * (n1 + 1.0) / 2.0, u2 = (double)n1 * n2 - u1, u = fmax(u1, u2);
  r->u1 = u1;
  /* the exact count costs O(m^2 n^2): only where that is small (as scipy, one side of at most 8,
   * but the other bounded too); the normal approximation is accurate beyond that */
  if ((n1 <= 8 || n2 <= 8) && (double)n1 * n1 * n2 * n2 <= 4e6 && !ties) {
    int m = n1 < n2 ? n1 : n2, nn = n1 < n2 ? n2 : n1;
    r->exact = 1;
    r->p = fmin(1.0, 2.0 * exact_sf((int)lround(u), m, nn));
  } else {
    double mu = n1 * (double)n2 / 2.0;
    double s = sqrt(n1 * (double)n2 / 12.0 * ((n + 1.0) - tie_term / ((double)n * (n - 1.0))));
    double z = s > 0 ? (u - mu - 0.5) / s : 0.0;
    r->p = fmin(1.0, erfc(z / sqrt(2.0))); /* 2 * sf(z) */
  }
  return 0;
}

/* ---- Wilcoxon signed-rank, for paired runs ---- */

/* P(W+ >= w) for n untied ranks: counts of subsets of {1..n} by their sum. */
static double signed_rank_sf(double w, int n) {
  int max = n * (n + 1) / 2;
  double *c = calloc((size_t)max + 1, sizeof *c);
  if (!c) return NAN;
  c[0] = 1.0;
  for (int k = 1; k <= n; k++)
    for (int s = max; s >= k; s--)
      c[s] += c[s - k];
  double tail = 0.0, total = ldexp(1.0, n);
  for (int s = (int)ceil(w - 1e-9); s <= max; s++)
    tail += c[s];
  free(c);
  return tail / total;
}

int wilcoxon_test(const double *d, int n, wilcoxon_result *r) {
  memset(r, 0, sizeof *r);
  tagged *a = malloc((size_t)(n > 0 ? n : 1) * sizeof *a);
  if (!a) return -1;
  int m = 0;
  for (int i = 0; i < n; i++) /* |d| ranked; the positive ones tagged */
    if (d[i] != 0.0 && isfinite(d[i])) a[m++] = (tagged){fabs(d[i]), d[i] > 0};
  r->n = m;
  if (m < 1) {
    free(a);
    r->p = 1.0;
    return 0;
  }
  double tie_term;
  int ties;
  double wplus = tagged_rank_sum(a, m, &tie_term, &ties);
  free(a);
  double mean = m * (m + 1.0) / 4.0, w = fmax(wplus, m * (m + 1.0) / 2.0 - wplus);
  r->w_plus = wplus;
  if (m <= 30 && !ties) {
    r->exact = 1;
    r->p = fmin(1.0, 2.0 * signed_rank_sf(w, m));
  } else {
    double var = m * (m + 1.0) * (2.0 * m + 1.0) / 24.0 - tie_term / 48.0;
    double z = var > 0 ? (w - mean - 0.5) / sqrt(var) : 0.0;
    r->p = fmin(1.0, erfc(z / sqrt(2.0)));
  }
  return 0;
}

/* ---- what a sample size can show at all ---- */

double mwu_min_p(int n1, int n2) {
  if (n1 < 1 || n2 < 1) return 1.0;
  double c = 1.0; /* C(n1 + n2, k) for k = 1..min(n1, n2), exact while it fits a double */
  int k = n1 < n2 ? n1 : n2, n = n1 + n2;
  for (int i = 1; i <= k; i++)
    c = c * (n - k + i) / i;
  return fmin(1.0, 2.0 / c);
}

double wilcoxon_min_p(int n) {
  return n < 1 ? 1.0 : fmin(1.0, ldexp(2.0, -n));
}

int mwu_min_n(double alpha) {
  int n = 1;
  while (n < 64 && !(mwu_min_p(n, n) < alpha))
    n++;
  return n;
}

int wilcoxon_min_n(double alpha) {
  int n = 1;
  while (n < 1100 && !(wilcoxon_min_p(n) < alpha))
    n++;
  return n;
}
