/* cli.h: options shared by the mlpbench subcommands, and the exit codes. */
#ifndef MLPB_CLI_H
#define MLPB_CLI_H

#include <stdint.h>

#include "../workloads/workload.h"

/* Exit codes (documented in the README and `mlpbench --help`). */
enum {
  EXIT_OK = 0,      /* success */
  EXIT_CHECK = 1,   /* a correctness check failed (gradcheck tolerance, bench flags) */
  EXIT_USAGE = 2,   /* bad command line or bad input data */
  EXIT_RUNTIME = 3, /* a backend failed, training diverged (NaN), or out of memory */
};

#define CLI_MAX_BACKENDS 8
#define CLI_MAX_PEERS 2

typedef struct {
  const char *cmd;
  const char *backends; /* comma list, NULL: every available one */
  const char *workload; /* toy | mnist | all */
  const char *data;
  const char *blas_kernel;
  const char *out_dir;
  const char *results;  /* bench: results file (default results/bench-DATE-HOST.json) */
  const char *markdown; /* bench: also write the table here */
  const char *plots_dir;
  const char *peers; /* numpy,torch */
  int format;        /* results_format */
  int sweep;
  wl_config wl;
  uint64_t seed;
  int threads, ftz, tf32;
  int warmup, repeat, block;
  int fd_samples;
  int quiet;
} cli_opts;

/* Parses argv[1..] of a subcommand; prints a message and returns EXIT_USAGE on error, or -1
 * after printing help. `allowed` is a string of the option letters the command takes. */
int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, cli_opts *o);
void cli_print_help(const char *cmd, const char *allowed, const char *synopsis);

/* The backends named by o->backends, or every available one; unknown names are usage
 * errors, unavailable ones named explicitly are reported and skipped (returns count). */
int cli_select_backends(const cli_opts *o, const void *out[CLI_MAX_BACKENDS], int *exit_code);

/* Workload list from --workload: fills kinds[], returns how many. */
int cli_workloads(const cli_opts *o, wl_kind kinds[2]);

/* Re-runs this process with OPENBLAS_CORETYPE set when --blas-kernel asks for it. */
void cli_apply_blas_kernel(const cli_opts *o);
extern char **cli_argv; /* main's argv, for re-running */

int cmd_list(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_export_png(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);

/* Loads --data (mnist only) and builds the workload; prints the error, returns an exit code. */
int cli_setup_workload(const cli_opts *o, wl_kind kind, mlpb_dataset *d, workload *w);
mlp_options cli_backend_options(const cli_opts *o);

/* Timing layout shared by bench and the peers: epochs per timing sample (toy epochs are
 * sub-microsecond, so a tenth of the run, at most 500; else 1) and runs per backend. */
int cli_timing_block(const cli_opts *o, const workload *w);
int cli_repeat(const cli_opts *o, const workload *w);

/* The CPU's model name, for report headers. */
const char *cli_cpu_model(void);
#endif
