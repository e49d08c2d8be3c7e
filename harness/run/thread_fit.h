/* thread_fit.h: the threads a row's next timing sample runs with (issue 24, "threads that
 * degrade gracefully"). A fork-join ends when its slowest thread does: when other work holds
 * a core, each join waits for a preempted thread's next time slice, and no wait policy
 * avoids that wait. Under one busy loop per core the classifier's 2-thread blas epoch took
 * 42-308 ms from run to run, its 1-thread epoch 37-57 ms
 * (results/reference/issue24-thread-fit.md). So between samples the harness gives a backend
 * that can change its threads (be_set_threads) the cores other work left: the threads asked
 * for, less one for each core's worth of other work that must share the cores they need.
 * Niced work counts as well: under EEVDF a woken thread of ours may still wait out a niced
 * task's slice, and with five niced compile jobs beside it the classifier's 2-thread epoch
 * took 144-165 ms where 1 thread took 41-48 ms (issue24-thread-fit.md).
 * On a quiet machine that is always the threads asked for: a quiet run is never changed. */
#ifndef MLPB_THREAD_FIT_H
#define MLPB_THREAD_FIT_H

/* Other work on our cores below this (in cores) leaves every asked thread its core: the
 * kernel's own housekeeping and /proc/stat's tick rounding read as a few hundredths. */
#define THREAD_FIT_SLACK 0.3

/* The threads to use, 1..asked: asked when other_cores (other work on the `cpus` cores this
 * process may use, averaged over the last sample) is not finite or leaves them free, or when
 * it is within `resolution` (cores) of zero: /proc/stat counts whole ticks, so a sample of a
 * few hundred microseconds (a block of toy epochs) can read one tick of another's work as
 * tens of cores, and a quiet run gave a core away on such a reading. */
int thread_fit(int asked, int cpus, double other_cores, double resolution);

#endif
