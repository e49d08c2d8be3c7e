/* disturbed.h: whether the machine let a row be measured, judged once, by one rule (README,
 * "Disturbed rows"). A row is disturbed when, over its timed samples and its GEMM floor:
 *   - other work used more than DISTURBED_OTHER_CORES cores on average on the cores this
 *     process may run on (its own threads, OpenMP and OpenBLAS workers included, and its
 *     children never count as other work), beyond what /proc/stat's whole ticks can resolve;
 *   - or a hypervisor stole more than DISTURBED_STEAL_CORES cores on average, likewise;
 *   - or more than DISTURBED_RUNNABLE other tasks were waiting to run on average at the
 *     samples' ends (the figure that still sees a busy machine when a row is too short for
 *     the tick counts);
 *   - or its figures contradict each other: the median epoch under DISTURBED_FLOOR_RATIO of
 *     its own GEMM floor, or else of its own step floor (where the epoch ran the floors' own
 *     calls: the per-step path, and a host backend's resident path; a device's resident
 *     kernels, CUDA's fused ones, may beat the library's products), or a rate above
 *     DISTURBED_PEAK_FRACTION of the machine's peak.
 *   - or a cache line's round trip between two of its cores changed between the row's start
 *     and end by more than CORE_RTT_RATIO (sys/core_rtt.h): the host moved the cores.
 * Involuntary context switches and CPU time over wall time are kept beside the verdict, as
 * evidence, never as a trigger: how often a thread is preempted depends on its own design. */
#ifndef MLPB_DISTURBED_H
#define MLPB_DISTURBED_H

#include "../output/report.h"
#include "timed_region.h"

#define DISTURBED_OTHER_CORES 0.1
#define DISTURBED_STEAL_CORES 0.1
#define DISTURBED_RUNNABLE 0.5
#define DISTURBED_FLOOR_RATIO REPORT_FLOOR_RATIO
#define DISTURBED_PEAK_FRACTION 1.0

/* Sums over a row's samples. */
typedef struct {
  int ok, n;
  double wall, cpu, other, steal, ivcsw, runnable, var;
} load_acc;

void load_acc_add(load_acc *a, const timed_sample *s);
/* The row's summary (other_cores, steal_cores, ...) from a; NaN where nothing was read. */
void disturbed_summary(report_row *r, const load_acc *a);
/* Adds another process's summary of the same row into r (bench --processes), weighted by the
 * time each covers; a disturbed process disturbs the merged row. */
void disturbed_merge(report_row *r, const report_row *other, int process);
/* Sets r->disturbed and r->disturbed_reason from the summary and the row's own figures. */
void disturbed_judge(report_row *r);
/* The same rule for a measurement that is not a row (the machine peak): "" when quiet. */
void disturbed_window(const load_delta *d, char *reason, size_t len);

#endif
