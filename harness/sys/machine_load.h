/* machine_load.h: what else the machine did over an interval, so that a timing sample can
 * say whether it was taken on a quiet machine: the CPU time other work used on the cores this
 * process may run on (/proc/stat less this process's own CPU time, its threads and its
 * waited-for children included), the time a hypervisor stole, this process's involuntary
 * context switches, and the runnable tasks that are not this process's threads. Reading costs
 * tens of microseconds: take snapshots outside what is timed. Where /proc cannot be read the
 * snapshot says so (ok 0) and the figures are NaN, never zero. */
#ifndef MLPB_MACHINE_LOAD_H
#define MLPB_MACHINE_LOAD_H

typedef struct {
  int ok;                 /* /proc/stat and /proc/loadavg were read */
  double wall;            /* CLOCK_MONOTONIC at the /proc/stat read */
  double own_in, own_out; /* own CPU seconds (threads + children) just before and after it */
  double busy, steal;     /* seconds, summed over the cores of this process's affinity mask */
  double tick;            /* the unit /proc/stat counts in (1 / USER_HZ), seconds */
  int cpus;               /* cores in the affinity mask */
  int online;             /* cores online */
  double ivcsw; /* involuntary switches: this process (all threads) and its reaped children */
  double others_runnable; /* machine-wide runnable tasks less this process's running threads */
} load_snap;

/* What happened between two snapshots. */
typedef struct {
  int ok;
  double wall;      /* seconds between the two /proc/stat reads */
  double other_cpu; /* CPU seconds other work used on our cores (may read slightly < 0:
                     * /proc/stat counts whole ticks) */
  double steal;     /* seconds stolen from our cores */
  double ivcsw;     /* involuntary context switches (this process and its reaped children) */
  double runnable;  /* other runnable tasks, the mean of the two ends (NaN when this process
                     * may run on only some of the cores: the count is the whole machine's) */
  double var;       /* the variance of other_cpu's rounding to whole ticks, seconds^2 */
  int cpus;         /* the cores other_cpu and steal were summed over (the affinity mask) */
} load_delta;

void load_snap_take(load_snap *s);
void load_delta_of(const load_snap *a, const load_snap *b, load_delta *d);

#endif
