/* stats.h: order statistics of timing samples. */
#ifndef MLPB_STATS_H
#define MLPB_STATS_H

#include <math.h>

typedef struct {
  int n;
  double median, min, max, q1, q3, mean;
} stats_summary;

/* Quantiles by linear interpolation between order statistics (numpy's default). */
stats_summary stats_summarize(const double *x, int n);
double stats_quantile_sorted(const double *sorted, int n, double q);

/* The larger of two figures that may be missing (NaN): NaN only when both are. */
static inline double stats_max_finite(double a, double b) {
  return !isfinite(a) ? b : !isfinite(b) ? a : a > b ? a : b;
}

#endif
