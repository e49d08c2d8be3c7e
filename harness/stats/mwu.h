/* mwu.h: the rank tests of the gate: the two-sided Mann-Whitney U test, as scipy.stats.mannwhitneyu
 * computes it with method='auto' (exact when either sample has at most 8 values and there are no
 * ties, otherwise the normal approximation with tie and continuity corrections), except that the
 * exact count, O(n1^2 n2^2) here, is used only while n1 * n2 <= 2000: past that the normal
 * approximation is within about 1e-3 of it and a 7-against-40,000 comparison stays instant. */
#ifndef MLPB_MWU_H
#define MLPB_MWU_H

typedef struct {
  double u1; /* U statistic of the first sample */
  double p;  /* two-sided p-value */
  int exact;
} mwu_result;

/* 0 on success; -1 if a sample is empty or out of memory. */
int mwu_test(const double *x, int n1, const double *y, int n2, mwu_result *r);

/* Two-sided Wilcoxon signed-rank test of d (paired differences) against 0, as
 * scipy.stats.wilcoxon: zeros dropped, tied ranks averaged, the exact distribution for up to
 * 30 untied pairs, else the normal approximation with tie and continuity corrections. */
typedef struct {
  double w_plus; /* sum of the ranks of the positive differences */
  double p;
  int n; /* pairs that counted (non-zero) */
  int exact;
} wilcoxon_result;

int wilcoxon_test(const double *d, int n, wilcoxon_result *r);

/* The smallest two-sided p-value each test can give at these sizes, whatever the data: the
 * exact count's most extreme arrangement (2 / C(n1+n2, n1), and 2 / 2^n for n pairs). Where
 * it is not below alpha no effect, however large, can be called significant. */
double mwu_min_p(int n1, int n2);
double wilcoxon_min_p(int n);
/* The fewest values a side (n against n), and the fewest pairs, whose smallest p is below
 * alpha. */
int mwu_min_n(double alpha);
int wilcoxon_min_n(double alpha);

#endif
