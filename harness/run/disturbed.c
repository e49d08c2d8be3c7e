#include "disturbed.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../sys/core_rtt.h"

void load_acc_add(load_acc *a, const timed_sample *s) {
  const load_delta *d = &s->load;
  if (!d->ok) return;
  a->ok = 1;
  a->n++;
  a->wall += d->wall;
  a->cpu += s->cpu_seconds;
  a->other += d->other_cpu;
  a->steal += d->steal;
  a->ivcsw += d->ivcsw;
  a->runnable += d->runnable; /* NaN for a pinned run: then the row has no such figure */
  a->var += d->var;
}

void disturbed_summary(report_row *r, const load_acc *a) {
  if (!a->ok || !(a->wall > 0)) return; /* left NaN: not measured */
  r->load_seconds = a->wall;
  r->other_cores = a->other / a->wall;
  r->steal_cores = a->steal / a->wall;
  r->load_resolution = 3.0 * sqrt(a->var) / a->wall;
  r->other_runnable = a->runnable / a->n;
  r->switches_per_s = a->ivcsw / a->wall;
  r->cpu_per_wall = a->cpu / a->wall;
}

/* a weighted by wa, b by wb; a NaN side leaves the other */
static double mix(double a, double wa, double b, double wb) {
  if (!isfinite(a)) return b;
  if (!isfinite(b)) return a;
  return (a * wa + b * wb) / (wa + wb);
}

void disturbed_merge(report_row *r, const report_row *o, int process) {
  double wa = isfinite(r->load_seconds) ? r->load_seconds : 0.0;
  double wb = isfinite(o->load_seconds) ? o->load_seconds : 0.0;
  if (wb > 0) {
    double ra = isfinite(r->load_resolution) ? r->load_resolution * wa : 0.0;
    double rb = o->load_resolution * wb;
    r->other_cores = mix(r->other_cores, wa, o->other_cores, wb);
    r->steal_cores = mix(r->steal_cores, wa, o->steal_cores, wb);
    r->other_runnable = mix(r->other_runnable, wa, o->other_runnable, wb);
    r->switches_per_s = mix(r->switches_per_s, wa, o->switches_per_s, wb);
    r->cpu_per_wall = mix(r->cpu_per_wall, wa, o->cpu_per_wall, wb);
    r->load_resolution = sqrt(ra * ra + rb * rb) / (wa + wb);
    r->load_seconds = wa + wb;
  }
  /* the widest pair of placements any process saw */
  if (core_rtt_moved(o->core_rtt_start, o->core_rtt_end) &&
      !core_rtt_moved(r->core_rtt_start, r->core_rtt_end))
    r->core_rtt_start = o->core_rtt_start, r->core_rtt_end = o->core_rtt_end;
  if (o->disturbed && !r->disturbed) {
    r->disturbed = 1;
    snprintf(r->disturbed_reason, sizeof r->disturbed_reason, "process %d: %.230s", process,
             o->disturbed_reason);
  }
}

/* Appends one reason to buf ("; " between). */
static void add(char *buf, size_t len, const char *what) {
  size_t n = strlen(buf);
  if (n + 1 < len) snprintf(buf + n, len - n, "%s%s", n ? "; " : "", what);
}

/* The machine's figures against the rule, into reason. */
static void judge_load(double other, double steal, double resolution, double runnable,
                       double switches, char *reason, size_t len) {
  char b[160];
  if (isfinite(other) && other > DISTURBED_OTHER_CORES && other > resolution) {
    snprintf(b, sizeof b, "other processes used %.2f cores on average", other);
    add(reason, len, b);
  }
  if (isfinite(steal) && steal > DISTURBED_STEAL_CORES && steal > resolution) {
    snprintf(b, sizeof b, "the hypervisor stole %.2f cores on average", steal);
    add(reason, len, b);
  }
  if (isfinite(runnable) && runnable > DISTURBED_RUNNABLE) {
    snprintf(b, sizeof b, "%.1f other tasks waiting to run on average", runnable);
    add(reason, len, b);
  }
  if (reason[0] && isfinite(switches)) {
    snprintf(b, sizeof b, "%.0f involuntary context switches/s", switches);
    add(reason, len, b);
  }
}

void disturbed_judge(report_row *r) {
  char reason[sizeof r->disturbed_reason] = "", b[160];
  if (r->disturbed) /* a process of a merged row, already said */
    snprintf(reason, sizeof reason, "%s", r->disturbed_reason);
  else
    judge_load(r->other_cores, r->steal_cores, r->load_resolution, r->other_runnable,
               r->switches_per_s, reason, sizeof reason);
  if (core_rtt_moved(r->core_rtt_start, r->core_rtt_end) && !strstr(reason, "round trip")) {
    snprintf(b, sizeof b,
             "a cache line's round trip between two of its cores went from %.0f ns to %.0f ns "
             "(the host moved this machine's cores, or other work held one)",
             r->core_rtt_start, r->core_rtt_end);
    add(reason, sizeof reason, b);
  }
  int fewer = 0, fewest = r->threads;
  for (int i = 0; r->threads_samples && i < r->n_load; i++)
    if (isfinite(r->threads_samples[i]) && r->threads_samples[i] < r->threads) {
      fewer++;
      if (r->threads_samples[i] < fewest) fewest = (int)r->threads_samples[i];
    }
  if (fewer && !strstr(reason, "fewer threads")) { /* said why above: the other work */
    snprintf(b, sizeof b,
             "%d of %d samples ran on fewer threads (down to %d of %d) to leave "
             "other work its cores",
             fewer, r->n_load, fewest, r->threads);
    add(reason, sizeof reason, b);
  }
  /* the GEMM floor, or else the step floor (above it, so under both says nothing more) */
  const double floors[2] = {r->gemm_floor, r->step_floor};
  const char *names[2] = {"GEMM floor", "step floor"};
  for (int k = 0; k < 2 && r->ran; k++)
    if (report_row_under_floor(r, floors[k]) && !strstr(reason, names[k])) {
      snprintf(b, sizeof b,
               "the epoch took %.3gx its own %s (under %.2f: one of them was disturbed)",
               r->st.median / floors[k], names[k], DISTURBED_FLOOR_RATIO);
      add(reason, sizeof reason, b);
      break;
    }
  if (r->ran && isfinite(r->peak_fraction) && r->peak_fraction > DISTURBED_PEAK_FRACTION &&
      !strstr(reason, "machine peak")) {
    snprintf(b, sizeof b,
             "%.0f%% of the machine peak (above 100%%: the peak was measured while the machine "
             "was busy)",
             100 * r->peak_fraction);
    add(reason, sizeof reason, b);
  }
  r->disturbed = reason[0] != '\0';
  snprintf(r->disturbed_reason, sizeof r->disturbed_reason, "%s", reason);
}

void disturbed_window(const load_delta *d, char *reason, size_t len) {
  reason[0] = '\0';
  if (!d->ok || !(d->wall > 0)) return;
  judge_load(d->other_cpu / d->wall, d->steal / d->wall, 3.0 * sqrt(d->var) / d->wall, d->runnable,
             d->ivcsw / d->wall, reason, len);
}
