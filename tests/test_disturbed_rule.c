/* test_disturbed_rule.c: the rule that judges a row disturbed (harness/run/disturbed.h), on
 * rows built by hand: an epoch under its own floor and a rate over the machine's peak are
 * flagged with their reason; other work counts only above 0.1 core and beyond what the tick
 * counts resolve; waiting tasks above 0.5; a merged row is disturbed when one process was. */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <string.h>

#include "../harness/run/disturbed.h"
#include "../harness/run/thread_fit.h"
#include "../harness/sys/core_rtt.h"
#include "t.h"

/* A row that ran, median 10 ms, with quiet figures. */
static void quiet_row(report_row *r) {
  memset(r, 0, sizeof *r);
  snprintf(r->backend, sizeof r->backend, "blas");
  r->ran = 1;
  r->st.median = 0.010;
  r->gemm_floor = 0.008;
  r->floor_bounds = 1;
  r->peak_fraction = 0.5;
  r->load_seconds = 2.0;
  r->other_cores = 0.02;
  r->steal_cores = 0.0;
  r->load_resolution = 0.01;
  r->other_runnable = 0.1;
  r->switches_per_s = 3;
  r->cpu_per_wall = 1.9;
  r->core_rtt_start = r->core_rtt_end = NAN;
}

static void test_rule(void) {
  report_row r;
  quiet_row(&r);
  disturbed_judge(&r);
  T_CHECK(!r.disturbed && !r.disturbed_reason[0], "a quiet row was marked: %s", r.disturbed_reason);

  quiet_row(&r);
  r.gemm_floor = 0.0125; /* x floor 0.8 */
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "0.8x its own GEMM floor"),
          "an epoch under its floor: %s", r.disturbed_reason);

  quiet_row(&r);
  r.gemm_floor = 0.0125;
  r.floor_bounds = 0; /* a resident path's own kernels may beat the library's products */
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "a resident row under the floor was marked: %s", r.disturbed_reason);

  quiet_row(&r);
  r.step_floor = 0.0125; /* GEMM floor under the epoch, the step floor above it */
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "0.8x its own step floor"),
          "an epoch under its step floor: %s", r.disturbed_reason);

  quiet_row(&r);
  r.step_floor = 0.0125;
  r.floor_bounds = 0;
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "a device's resident row under its step floor was marked: %s",
          r.disturbed_reason);

  quiet_row(&r);
  r.gemm_floor = 0.0100 / 0.985; /* x floor 0.985: within the margin */
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "x floor 0.985 was marked: %s", r.disturbed_reason);

  quiet_row(&r);
  r.peak_fraction = 2.78;
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "278% of the machine peak"),
          "a rate over the peak: %s", r.disturbed_reason);

  quiet_row(&r);
  r.other_cores = 0.3;
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "other processes used 0.30 cores"),
          "0.3 core of other work: %s", r.disturbed_reason);

  quiet_row(&r);
  r.other_cores = 0.3;
  r.load_resolution = 0.5; /* a short row: the tick counts cannot tell 0.3 from 0 */
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "other work below the resolution was marked: %s", r.disturbed_reason);

  quiet_row(&r);
  r.other_cores = 0.09;
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "0.09 core was marked: %s", r.disturbed_reason);

  quiet_row(&r);
  r.steal_cores = 0.2;
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "stole 0.20 cores"), "steal: %s",
          r.disturbed_reason);

  quiet_row(&r);
  r.other_runnable = 1.5;
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "1.5 other tasks waiting") &&
              strstr(r.disturbed_reason, "3 involuntary context switches/s"),
          "waiting tasks, with the switches as evidence: %s", r.disturbed_reason);

  quiet_row(&r);
  r.other_cores = r.steal_cores = r.other_runnable = r.load_resolution = NAN;
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "no figures (no /proc) was marked: %s", r.disturbed_reason);
}

static void test_merge(void) {
  report_row a, b;
  quiet_row(&a);
  quiet_row(&b);
  b.other_cores = 1.0;
  disturbed_judge(&b);
  disturbed_merge(&a, &b, 2);
  T_CHECK(a.disturbed && strncmp(a.disturbed_reason, "process 2: other processes", 26) == 0,
          "merged: %s", a.disturbed_reason);
  T_CHECK(fabs(a.other_cores - 0.51) < 1e-12 && a.load_seconds == 4.0,
          "weighted other work %g over %g s", a.other_cores, a.load_seconds);
  disturbed_judge(&a);
  T_CHECK(a.disturbed && strncmp(a.disturbed_reason, "process 2:", 10) == 0,
          "judged again, the process's reason stays: %s", a.disturbed_reason);
}

/* The threads a sample runs with: all asked for on a quiet machine (a quiet run is never
 * changed), fewer as other work takes the cores they need, never fewer than 1; cores this run
 * does not ask for absorb other work first. */
static void test_thread_fit(void) {
  T_CHECK(thread_fit(2, 2, 0.02, 0.01) == 2, "quiet 2 cores: %d", thread_fit(2, 2, 0.02, 0.01));
  T_CHECK(thread_fit(2, 2, NAN, 0.01) == 2, "unreadable load keeps the threads");
  T_CHECK(thread_fit(2, 2, THREAD_FIT_SLACK, 0.01) == 2, "at the slack: %d",
          thread_fit(2, 2, 0.3, 0.01));
  T_CHECK(thread_fit(2, 2, 1.0, 0.01) == 1, "one busy core of 2: %d", thread_fit(2, 2, 1.0, 0.01));
  T_CHECK(thread_fit(2, 2, 2.0, 0.01) == 1, "both busy: %d", thread_fit(2, 2, 2.0, 0.01));
  T_CHECK(thread_fit(8, 8, 3.0, 0.01) == 5, "3 of 8 busy: %d", thread_fit(8, 8, 3.0, 0.01));
  T_CHECK(thread_fit(4, 16, 11.9, 0.01) == 4, "others fit on the 12 spare cores: %d",
          thread_fit(4, 16, 11.9, 0.01));
  T_CHECK(thread_fit(4, 16, 13.5, 0.01) == 2, "1.5 cores beyond the spare: %d",
          thread_fit(4, 16, 13.5, 0.01));
  T_CHECK(thread_fit(2, 2, 30.0, 60.0) == 2,
          "a reading within the tick resolution (a 150 us sample) keeps the threads");
  T_CHECK(thread_fit(1, 2, 2.0, 0.01) == 1 && thread_fit(0, 2, 0.0, 0.01) == 1,
          "1 or unknown stays 1");

  /* a row that gave cores away says so, with the count */
  report_row r;
  double th[4] = {2, 1, 1, 2};
  quiet_row(&r);
  r.threads = 2;
  r.n_load = 4;
  r.threads_samples = th;
  disturbed_judge(&r);
  T_CHECK(r.disturbed &&
              strstr(r.disturbed_reason, "2 of 4 samples ran on fewer threads (down to 1 of 2)"),
          "fewer threads: %s", r.disturbed_reason);
}

/* The host moved the cores between a row's start and end: the round trips say so. */
static void test_core_moved(void) {
  report_row r;
  quiet_row(&r);
  r.core_rtt_start = 60, r.core_rtt_end = 370;
  disturbed_judge(&r);
  T_CHECK(r.disturbed && strstr(r.disturbed_reason, "from 60 ns to 370 ns"),
          "cores moved during the row: %s", r.disturbed_reason);
  quiet_row(&r);
  r.core_rtt_start = 380, r.core_rtt_end = 55;
  disturbed_judge(&r);
  T_CHECK(r.disturbed, "cores moved back during the row: not marked");
  quiet_row(&r);
  r.core_rtt_start = 55, r.core_rtt_end = 140; /* a noisy probe, not another placement */
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "55 -> 140 ns was marked: %s", r.disturbed_reason);
  quiet_row(&r);
  r.core_rtt_start = 350, r.core_rtt_end = 390; /* far apart all along: the same placement */
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "350 -> 390 ns was marked: %s", r.disturbed_reason);
  quiet_row(&r);
  r.core_rtt_start = 60; /* one CPU, or a probe that could not run */
  disturbed_judge(&r);
  T_CHECK(!r.disturbed, "a missing round trip was marked: %s", r.disturbed_reason);

  /* --processes: a merged row keeps the moved pair and the mark */
  report_row a, o;
  quiet_row(&a);
  quiet_row(&o);
  a.core_rtt_start = a.core_rtt_end = 60;
  o.core_rtt_start = 60, o.core_rtt_end = 400;
  disturbed_judge(&o);
  disturbed_merge(&a, &o, 2);
  disturbed_judge(&a);
  T_CHECK(a.disturbed && a.core_rtt_end == 400, "merged: disturbed %d, end %.0f ns", a.disturbed,
          a.core_rtt_end);
}

/* The probe itself: a round trip on two CPUs, NaN on one, the caller's affinity kept. */
static void test_core_probe(void) {
  cpu_set_t before, after;
  T_CHECK(sched_getaffinity(0, sizeof before, &before) == 0, "sched_getaffinity");
  double ns = core_rtt_ns(0.05);
  T_CHECK(sched_getaffinity(0, sizeof after, &after) == 0 && CPU_EQUAL(&before, &after),
          "the probe left the caller's affinity changed");
  if (CPU_COUNT(&before) >= 2)
    T_CHECK(isfinite(ns) && ns > 0 && ns < 1e7, "two CPUs: %g ns", ns);
  else
    T_CHECK(isnan(ns), "one CPU: %g ns, not NaN", ns);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  if (sched_setaffinity(0, sizeof one, &one) == 0) {
    ns = core_rtt_ns(0.05);
    T_CHECK(isnan(ns), "pinned to one CPU: %g ns, not NaN", ns);
    (void)sched_setaffinity(0, sizeof before, &before);
  }
}

int main(void) {
  T_RUN(test_rule);
  T_RUN(test_merge);
  T_RUN(test_thread_fit);
  T_RUN(test_core_moved);
  T_RUN(test_core_probe);
  T_EXIT();
}
