/* stats.h: order statistics of timing samples. */
#ifndef MLPB_STATS_H
#define MLPB_STATS_H

typedef struct {
  int n;
  double median, min, max, q1, q3, mean;
} stats_summary;

/* Quantiles by linear interpolation between order statistics (numpy's default). */
stats_summary stats_summarize(const double *x, int n);
double stats_quantile_sorted(const double *sorted, int n, double q);

#endif
