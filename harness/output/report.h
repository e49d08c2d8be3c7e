/* report.h: the result types: everything one `mlpbench bench` run measured, in memory, before
 * it becomes a table, a results file and plots (and what `plot` and `compare` read back).
 * Types only, plus the few functions of report.c; it includes nothing but the interface's
 * spec and the statistics type. */
#ifndef MLPB_REPORT_H
#define MLPB_REPORT_H

#include <stdint.h>

#include "../../impls/mlp_backend.h"
#include "../stats/stats.h"

/* timing samples one row may hold (repeat x samples per run): bounds the row's buffers and
 * the results file (about 60 bytes a sample), whatever counts the user gives */
#define REPORT_MAX_SAMPLES (1 << 18)
#define REPORT_MAX_WORKLOADS 8

typedef struct {
  double rel_l2, max_abs, nmse;
  double tol; /* the relative L2 error this tensor may have */
} gc_err;

/* One backend's (or peer's) loss and gradients against the float64 reference. */
typedef struct {
  double loss, loss_ref, loss_rel, loss_tol;
  gc_err t[4];  /* W1 b1 W2 b2 */
  double worst; /* the largest relative error (loss or a tensor) */
  int batch;    /* samples in the batch these figures come from (0: not recorded) */
  double tol;   /* the largest tolerance; pass: every error within its own tolerance */
  int pass;
} gc_result;

typedef struct {
  char date[32], host[72], cpu[128], os[200], compiler[96], flags[256], commit[48];
  char commit_date[32]; /* ISO 8601, "" when unknown */
  char caches[128];     /* e.g. "L1d 32K, L2 1024K, L3 32768K" */
  int cores;
  int mhz; /* the first CPU's clock as /proc/cpuinfo says (0: unknown), for Google Benchmark */
  char blas_library[160], blas_kernel[32]; /* the host math library, when a backend has one */
  int blas_threads;
  char blas_kernel_by[48];  /* who chose that kernel: "the library", "mlpbench (auto)", ... */
  char wait_policy[128];    /* how idle library threads wait, and who chose it ("" none) */
  double peak_gflops;       /* the machine's FP32 rate through a host library (NaN: none) */
  char peak_by[96];         /* what measured it: "blas: cblas_sgemm 2048^3, best of 3, ..." */
  char peak_at[32];         /* when (ISO 8601 UTC; a --processes child: its parent's) */
  char peak_disturbed[256]; /* what else the machine did while it was measured, "" when quiet */
  char gpu[256];            /* describe() of the device backend when one ran, else "" */
  char command[512];
  uint64_t seed;
  int ftz, tf32;
} report_context;

typedef struct {
  char backend[24];
  char details[256];    /* the backend's describe() */
  char path[64];        /* the code path or kernel it ran (path slot), "" when it has none */
  double peak_fraction; /* a host row's GFLOP/s over the context's peak_gflops (NaN: none) */
  /* the math library under this row's backend (library slot), "" when it has none */
  char library[160], kernel[32];
  int threads;
  /* a plugin's row: the file that produced it (resolved path, SHA-256 of its bytes as loaded),
   * and what its calls changed in the FP environment (restored after each: "" when nothing);
   * "" for a built-in backend */
  char plugin_path[4096], plugin_sha256[65], plugin_fenv_changed[192];
  int library_known; /* read back: the file recorded the row's library (older files did not) */
  int reference;     /* the plain reference row ("x vs reference") */
  int ran;           /* timed to the end */
  char error[512];
  int gc_done;
  gc_result gc;
  int n_samples;
  double *samples, *cpu_samples; /* per-epoch seconds, every kept sample */
  /* the backend's own clock beside the wall clock (device events), per epoch of the same
   * samples; n_dev is 0 for a backend without one, else n_samples */
  int n_dev;
  double *dev_samples;
  double device_median; /* NaN without one */
  stats_summary st;
  double samples_per_s, gflops;
  int n_epochs; /* curves of the last repeat */
  double *epoch_loss, *epoch_val_acc;
  double val_acc, test_acc; /* NaN: not measured */
  int n_floor;              /* the GEMM floor: the products alone, per epoch (gemm_floor) */
  double *floor_samples;
  double gemm_floor; /* their median; NaN when the backend has no floor slot */
  int floor_bounds;  /* the epoch ran the floor's own calls (the per-step path), so it cannot
                      * be faster than the floor; a resident path may run other kernels */
  /* the step floor: the products plus the optimizer's compulsory memory traffic, per epoch
   * (step_floor), timed in the same run on the same threads; NaN without the slot */
  int n_step_floor;
  double *step_floor_samples;
  double step_floor;
  int n_proc;           /* processes the samples came from (bench --processes) */
  double *proc_medians; /* each process's median */
  /* memory: the host's peak resident growth over the timed runs (bytes; NaN: not measured),
   * whether that peak was reset first (else it may be an earlier, higher one), and what a
   * device backend's context holds on its device (NaN: no device or no figure) */
  double host_peak_growth;
  int host_peak_exact;
  double device_bytes;
  /* the machine was busy while this row was timed (issue 24): other runnable work, steal,
   * involuntary switches, or figures that contradict each other (an epoch under its own
   * floor, a share of peak above 1). Such a row is marked wherever it is shown, and compare
   * never judges it. disturbed_reason says what was seen, "" when quiet. */
  int disturbed;
  char disturbed_reason[256];
  /* what the verdict rests on (disturbed.h): per sample, what else the machine did (per
   * epoch, as cpu_samples; n_load is n_samples, or 0 for a row without them: a peer, an
   * older file) ... */
  int n_load;
  double *other_samples;    /* CPU seconds other work used on this process's cores */
  double *steal_samples;    /* seconds a hypervisor stole from them */
  double *ivcsw_samples;    /* this process's involuntary context switches */
  double *runnable_samples; /* other runnable tasks at the sample's two ends (a count) */
  double *threads_samples;  /* the threads it ran with (thread_fit.h; NaN: not a threaded row) */
  /* ... and over the row: its timed samples and GEMM floor (a peer: its whole run, from the
   * machine's side); NaN: not measured */
  double load_seconds;    /* the wall time these figures cover */
  double other_cores;     /* other work, in cores on average */
  double steal_cores;     /* steal, in cores on average */
  double load_resolution; /* in cores: what /proc/stat's whole ticks cannot tell from zero */
  double other_runnable;  /* other runnable tasks, on average */
  double switches_per_s;  /* involuntary context switches per second */
  double cpu_per_wall;    /* this process's CPU time over wall time: threads kept busy */
  /* the round trip of a cache line between two of its cores (sys/core_rtt.h), in ns, before
   * its timed runs and after its floors; NaN: not measured (one CPU, a peer) */
  double core_rtt_start, core_rtt_end;
  char timed_at[32]; /* when its timed runs started (ISO 8601 UTC) */
  char floor_at[32]; /* when its GEMM floor was measured, "" when it has none */
  /* a peer's setup, as it reported it (peers.c; "" and NaN for a backend): its framework and
   * the version that ran, its compile mode, how its threads were set, whether subnormals
   * flushed (measured), the seconds its compilation took before the first timed epoch */
  char framework[96], compile_mode[96], threads_set_by[160], subnormals[96];
  double compile_seconds;
  /* a peer that used more CPUs than its threads: its median epoch CPU time over wall time
   * (cpu_per_wall, NaN when not measured) above its threads (peers.c's margin) */
  int over_threads;
} report_row;

typedef struct {
  char param[8]; /* "batch" or "hidden" */
  char backend[24];
  int value;
  double seconds; /* per epoch, extrapolated from the median step */
} report_sweep;

#define REPORT_MONTAGE_MAX 100

/* The digit montage as data: validation images with their true and predicted labels, from
 * the first backend whose check passed, so that `plot` redraws it from a results file. */
typedef struct {
  int n, side;      /* images, side x side pixels each; n == 0: none */
  char backend[24]; /* whose trained model predicted */
  uint8_t *pixels;  /* (n, side * side) grayscale */
  int32_t truth[REPORT_MONTAGE_MAX], pred[REPORT_MONTAGE_MAX];
  int dropped; /* read back: the file had a montage, not whole or out of range, so none */
} report_montage;

typedef struct {
  char name[24];
  mlp_spec spec;
  char dataset[64], dataset_source[512];
  char data_title[64]; /* what plots say the model trains on */
  uint64_t dataset_hash;
  int n_train, n_val, n_test, batch, batches_per_epoch, epochs, warmup, repeat, block;
  char sampling[24];
  int zero_grad;
  int full_batch; /* an epoch is one step on the whole training set */
  int has_accuracy;
  double gflop_per_epoch, samples_per_epoch;
  int n_rows, cap_rows;
  report_row *rows; /* one per backend and peer: grown by report_add_row, no cap */
  int n_sweep;
  report_sweep *sweep;
  report_montage montage;
} report_workload;

typedef struct {
  report_context ctx;
  int n_wl;
  report_workload wl[REPORT_MAX_WORKLOADS];
} report;

/* The four tensors of the flat parameter layout, as results and tables name them. */
extern const char *const gc_tensor_names[4];

/* "mlpbench VERSION (commit C, DATE)": what `mlpbench --version` prints */
const char *report_version(void);
void report_context_fill(report_context *c, int argc, char **argv);
/* The time now as ISO 8601 UTC ("2026-12-05T01:02:03Z"), as every date in a results file. */
void report_time_now(char *buf, size_t len);
/* c->command: the arguments joined by spaces, valid UTF-8, cut on a character boundary. */
void report_context_command(report_context *c, int argc, char **argv);
/* The context's host math library: the one every row with a library ran (a run of naive
 * alone records none), or REPORT_PER_ROW when rows ran different ones. */
#define REPORT_PER_ROW "per row" /* rows ran different libraries: each row says its own */
void report_context_libraries(report_context *c, const report *r);
void report_free(report *r);
/* The next free row of w, zeroed; NULL (and nothing changed) when w is full. */
report_row *report_add_row(report_workload *w);
/* The next workload of r, zeroed; NULL when r is full. */
report_workload *report_add_workload(report *r);

/* A row's summary figures from its samples, the one place they are computed (the runner, the
 * merge of --processes, a peer's row and a results file read back): the median and spread of
 * its epochs (st); the device clock's median, when every sample has one (else n_dev is 0);
 * throughput at the median for workload w (samples/s and GFLOP/s; 0 without samples); the
 * GEMM and step floors' medians (NaN without samples). */
void report_row_summarize(report_row *r, const report_workload *w);

/* Whether the row's median epoch is under REPORT_FLOOR_RATIO of `floor` (its GEMM or step
 * floor) where the floor bounds it (floor_bounds): figures that cannot both be right, the
 * one test behind the disturbed rule and the table's marks. */
#define REPORT_FLOOR_RATIO 0.98
int report_row_under_floor(const report_row *r, double floor);

/* Rows that passed their gradient check, fastest first; the others after, unranked. */
void report_sort_rows(report_workload *w);

/* The CPU's model name, for report headers, into out (valid UTF-8, cut on a character
 * boundary): the caller's buffer, so no call overwrites another's. */
void report_cpu_model(char *out, size_t len);

#endif
