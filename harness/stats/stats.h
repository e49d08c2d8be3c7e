/* stats.h: order statistics of timing samples. */
#ifndef MLPB_STATS_H
#define MLPB_STATS_H

#include <math.h>

typedef struct {
  int n;
  double median, min, max, q1, q3, mean;
  double iqr; /* q3 - q1: the spread a row's median is quoted with */
} stats_summary;

/* Quantiles by linear interpolation between order statistics (numpy's default). */
stats_summary stats_summarize(const double *x, int n);
double stats_quantile_sorted(const double *sorted, int n, double q);

/* A distribution-free confidence interval for the median of x: the order statistics
 * [x_(k), x_(n+1-k)] with the largest k whose sign-test tail P(Binomial(n, 1/2) < k) is at most
 * alpha/2, so the coverage is at least 1 - alpha whatever the distribution. -1 when n is too
 * small for any interval at that level (n < 6 at alpha 0.05): the data bound nothing. */
int stats_median_ci(const double *x, int n, double alpha, double *lo, double *hi);

/* The larger of two figures that may be missing (NaN): NaN only when both are. */
static inline double stats_max_finite(double a, double b) {
  return !isfinite(a) ? b : !isfinite(b) ? a : a > b ? a : b;
}

#endif
