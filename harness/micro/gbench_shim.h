/* gbench_shim.h: a C API over Google Benchmark (which is C++ only). The timed loop stays on
 * the C++ side; C code registers named benchmarks with a callback, a context pointer,
 * argument values, optional manual timing (device work timed after a sync or with events)
 * and per-iteration counters that Google Benchmark turns into rates. */
#ifndef MLPB_GBENCH_SHIM_H
#define MLPB_GBENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One iteration. Return 0 on success, else a message (the benchmark is skipped with it).
 * With manual timing, store the iteration's seconds in *seconds. */
typedef const char *(*gbs_fn)(void *ctx, const int64_t *args, int nargs, double *seconds);

typedef struct {
  const char *name;
  gbs_fn fn;
  void *ctx;
  const int64_t *args; /* one benchmark instance per value (NULL/0: no argument) */
  int nargs;
  int manual_time;
  double items_per_iter; /* > 0: report items/s (e.g. samples) */
  double flops_per_iter; /* > 0: report FLOP/s */
  /* optional per-argument variants of the two counters, indexed like args */
  double (*items_for)(void *ctx, int64_t arg);
  double (*flops_for)(void *ctx, int64_t arg);
} gbs_benchmark;

int gbs_register(const gbs_benchmark *b);
/* Parses --benchmark_* flags out of argv (the rest stay), runs what matches the filter. */
int gbs_run(int *argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
