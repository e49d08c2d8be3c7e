#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double stats_quantile_sorted(const double *s, int n, double q) {
  if (n <= 0) return 0.0;
  double pos = q * (n - 1);
  int i = (int)pos;
  if (i >= n - 1) return s[n - 1];
  double f = pos - i;
  return s[i] + f * (s[i + 1] - s[i]);
}

stats_summary stats_summarize(const double *x, int n) {
  stats_summary r = {0};
  r.n = n;
  if (n <= 0) return r;
  double *s = malloc((size_t)n * sizeof *s);
  if (!s) return r;
  memcpy(s, x, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += s[i];
  r.mean = sum / n;
  r.min = s[0];
  r.max = s[n - 1];
  r.median = stats_quantile_sorted(s, n, 0.5);
  r.q1 = stats_quantile_sorted(s, n, 0.25);
  r.q3 = stats_quantile_sorted(s, n, 0.75);
  r.iqr = r.q3 - r.q1;
  free(s);
  return r;
}

int stats_median_ci(const double *x, int n, double alpha, double *lo, double *hi) {
  if (n < 1) return -1;
  /* the tail P(B <= j) of Binomial(n, 1/2), summed while it stays within alpha/2 */
  double term = ldexp(1.0, -n), tail = 0.0; /* C(n, 0) / 2^n */
  int k = 0;
  for (int j = 0; j < n; j++) {
    tail += term;
    if (tail > alpha / 2) break;
    k = j + 1; /* P(B < k) <= alpha/2 */
    term = term * (n - j) / (j + 1);
  }
  if (k < 1 || 2 * k > n) return -1;
  double *s = malloc((size_t)n * sizeof *s);
  if (!s) return -1;
  memcpy(s, x, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  *lo = s[k - 1];
  *hi = s[n - k];
  free(s);
  return 0;
}
