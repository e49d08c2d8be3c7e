/* timed_region.h: the one timed region, the one clock. A sample starts where the work is
 * ordered (the batch order, the first product) and ends after be_sync: a backend may return
 * before its device work is done (mlp_backend.h), so the clock is read only once the backend
 * says that work is finished. Wall time, CLOCK_MONOTONIC (harness/sys/timer.c), for every
 * backend; beside it the process's CPU time over the same span, and, read just outside the
 * span, what else the machine did meanwhile (harness/sys/machine_load.h). Everything that
 * times a backend goes through here: both trainer paths, the GEMM floor, the sweep, the
 * micro-benchmarks. */
#ifndef MLPB_TIMED_REGION_H
#define MLPB_TIMED_REGION_H

#include "../backends/be_handle.h"
#include "../sys/machine_load.h"

typedef struct {
  int load;        /* also the machine's figures (0: the clock alone, e.g. micro-benchmarks,
                    * whose iterations are too short to read /proc around each) */
  load_snap l0;    /* before the region */
  double t0, c0;   /* wall and CPU clocks at its start */
  double excluded; /* wall seconds inside it that are not the backend's (a progress line) */
} timed_region;

typedef struct {
  double seconds;     /* wall, start to after the sync, less what was excluded */
  double cpu_seconds; /* this process's CPU time (all threads) over the same span */
  load_delta load;    /* the machine around it (load.ok 0 when not taken or unreadable) */
} timed_sample;

/* Starts a region; with load, a machine snapshot is taken first (outside the region). */
void timed_region_begin(timed_region *r, int load);
/* Seconds inside the region that the sample must not count (drawing progress). */
void timed_region_exclude(timed_region *r, double seconds);
/* Waits for h's queued work (be_sync; h may be NULL for host-only work), reads the clocks, then
 * the machine. 0, or be_sync's failure (-1; the sample is not filled). */
int timed_region_end(timed_region *r, be_handle *h, timed_sample *out);

#endif
