/* history.h: the long view. Native results files (from CI artifacts, a folder of past runs)
 * grouped into series, one per machine x workload x data x sampling x backend, ordered by
 * commit date (run date where the commit's date is unknown), with the step changes in each.
 * The machine is what determines speed (run_identity.h: CPU, cores, BLAS kernel and threads,
 * GPU), not the host name, which a CI fleet changes every job and which is only a label. The
 * same run read twice (a folder named twice, a copy of a file) counts once.
 *
 * Steps: segmentation of a series' log run-medians, binary and circular (a segment may be cut
 * once, or twice around a level of its own, so a step later undone is found too). At each
 * level the cut that most reduces the squared error is kept when all of these hold, else the
 * segment is left whole:
 *  - the reduction beats a penalty of HISTORY_PENALTY * sigma^2 * ln(n) per cut (sigma: the
 *    series' noise, robustly from successive differences; as a penalized piecewise-constant
 *    fit, asv's approach, weighs a new level against its cost);
 *  - the levels on either side differ by more than the minimum effect (5% by default);
 *  - a Mann-Whitney U test between the runs on either side (at most 10 each, nearest the
 *    split) gives p < 0.05, the gate's own test.
 * At least HISTORY_MIN_SEG runs must stand on each side, so one odd run is never a step.
 * Each segment's squared error comes from prefix sums in O(1); the single cut is searched
 * exhaustively, the double cut by coordinate ascent from a few starts (the best window of each
 * of O(log n) lengths, the extremes of the centred cumulative sum), so a level costs
 * O(n log n), not the O(n^2) pairs times O(n) sums of an exhaustive search: 20,000 runs take
 * milliseconds (6,000 took 29 s). On 4,000 generated series of 10 to 390 runs it finds exactly
 * the exhaustive search's steps.
 * tests/test_history.c measures detection and false alarms on generated series. */
#ifndef MLPB_HISTORY_H
#define MLPB_HISTORY_H

#include "run_identity.h"
#include "wl_identity.h"

#include <stdint.h>
#include <stdio.h>

#define HISTORY_MIN_SEG 2
#define HISTORY_PENALTY 4.0
#define HISTORY_MAX_STEPS 16

typedef struct {
  double median, q1, q3; /* the run's seconds per epoch */
  double when;           /* ordering key: commit date, else run date (seconds since 1970) */
  char commit[48], commit_date[32], date[32];
  char host[sizeof((report_context *)0)->host];
  char *file;
} hist_point;

typedef struct {
  char workload[24], backend[24];
  char host[sizeof((report_context *)0)->host]; /* a label: the latest run's host name */
  machine_id machine;                           /* the key: what determines the speed */
  wl_identity id; /* the workload, as compare identifies it (model, batch, sampling...) */
  char dataset[64];
  hist_point *pts;
  int n, cap;
  int steps[HISTORY_MAX_STEPS]; /* index of the first run after each step */
  int n_steps;
} hist_series;

typedef struct {
  hist_series *s;
  int n, cap;
  int files_read, files_skipped;
  int duplicates; /* rows dropped: a run already read (its fingerprint seen) */
  run_set seen;
} history;

/* A results file, or every *.json in a folder; a file that cannot be read, or is in another
 * format, is skipped with one line on `log`. 0, or -1 when out of memory. */
int history_add_path(history *h, const char *path, FILE *log);
/* Orders each series and finds its steps (min_effect: 0.05 for 5%). */
void history_finish(history *h, double min_effect);
void history_free(history *h);

/* Steps in y (log run-medians, in order): indices of the first point after each, ascending;
 * returns how many. Exposed for the tests. */
int history_detect(const double *y, int n, double min_effect, int *steps, int max_steps);

/* The series' level change at a step: median after / median before - 1 (the runs between the
 * neighbouring steps). */
double history_step_change(const hist_series *s, int k);

/* 1 when the series' latest step is toward slower and its first slower run is among the
 * series' last `since` runs (0: any run), the gate of --fail-on-step. A step long past (55
 * runs ago) still shows in the table, but no longer fails every later build. */
int history_slower_now(const hist_series *s, int since);

#endif
