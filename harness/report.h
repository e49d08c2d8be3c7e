/* report.h: everything one `mlpbench bench` run measured, in memory, before it becomes a
 * table, a results file and plots. */
#ifndef MLPB_REPORT_H
#define MLPB_REPORT_H

#include <stdint.h>

#include "../impls/mlp_backend.h"
#include "gradcheck.h"
#include "stats.h"

#define REPORT_MAX_ROWS 8
#define REPORT_MAX_WORKLOADS 2

typedef struct {
  char date[32], host[72], cpu[128], os[200], compiler[96], flags[256], commit[48];
  char caches[128]; /* e.g. "L1d 32K, L2 1024K, L3 32768K" */
  int cores;
  char blas_library[160], blas_kernel[32];
  int blas_threads;
  char gpu[256]; /* describe() of the cuda backend when it ran, else "" */
  char command[512];
  uint64_t seed;
  int ftz, tf32;
} report_context;

typedef struct {
  char backend[24];
  char details[256]; /* the backend's describe() */
  int ran;           /* timed to the end */
  char error[512];
  int gc_done;
  gc_result gc;
  int n_samples;
  double *samples, *cpu_samples; /* per-epoch seconds, every kept sample */
  stats_summary st;
  double samples_per_s, gflops;
  int n_epochs; /* curves of the last repeat */
  double *epoch_loss, *epoch_val_acc;
  double val_acc, test_acc;
} report_row;

typedef struct {
  char param[8]; /* "batch" or "hidden" */
  char backend[24];
  int value;
  double seconds; /* per epoch, extrapolated from the median step */
} report_sweep;

typedef struct {
  char name[8]; /* toy | mnist */
  mlp_spec spec;
  char dataset[64], dataset_source[512];
  uint64_t dataset_hash;
  int n_train, n_val, n_test, batch, batches_per_epoch, epochs, warmup, repeat, block;
  char sampling[24];
  int zero_grad;
  double gflop_per_epoch, samples_per_epoch;
  int n_rows;
  report_row rows[REPORT_MAX_ROWS];
  int n_sweep;
  report_sweep *sweep;
} report_workload;

typedef struct {
  report_context ctx;
  int n_wl;
  report_workload wl[REPORT_MAX_WORKLOADS];
} report;

void report_context_fill(report_context *c, int argc, char **argv);
/* Re-reads what the backends may have changed since (the BLAS thread count). */
void report_context_refresh(report_context *c);
void report_free(report *r);

/* Rows that passed their gradient check, fastest first; the others after, unranked. */
void report_sort_rows(report_workload *w);

#endif
