#include "timed_region.h"

#include <string.h>

#include "../sys/timer.h"

/* Test builds only (cmake -DMLPB_SLOWDOWN_PCT=10): stretch every timed region by a known
 * fraction, busy, so the regression gate's power can be measured. */
#ifndef MLPB_SLOWDOWN_PCT
#define MLPB_SLOWDOWN_PCT 0
#endif
static void injected_slowdown(double start) {
  if (MLPB_SLOWDOWN_PCT <= 0) return;
  double until = start + (timer_now() - start) * (1.0 + MLPB_SLOWDOWN_PCT / 100.0);
  while (timer_now() < until) {
  }
}

void timed_region_begin(timed_region *r, int load) {
  memset(r, 0, sizeof *r);
  r->load = load;
  if (load) load_snap_take(&r->l0);
  r->c0 = timer_cpu_now();
  r->t0 = timer_now(); /* last: nothing of the harness's own between it and the work */
}

void timed_region_exclude(timed_region *r, double seconds) {
  r->excluded += seconds;
}

int timed_region_end(timed_region *r, be_handle *h, timed_sample *out) {
  if (h && be_sync(h)) return -1;
  injected_slowdown(r->t0);
  double t1 = timer_now(); /* first: the sample ends when the sync returns */
  double c1 = timer_cpu_now();
  out->seconds = t1 - r->t0 - r->excluded;
  out->cpu_seconds = c1 - r->c0;
  memset(&out->load, 0, sizeof out->load);
  if (r->load) {
    load_snap l1;
    load_snap_take(&l1);
    load_delta_of(&r->l0, &l1, &out->load);
  }
  return 0;
}
