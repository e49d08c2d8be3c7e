/* cli.h: the command layer: options shared by the mlpbench subcommands, parsed once into a
 * run plan (plan.h). Only cmd_*.c and main.c include this. */
#ifndef MLPB_CLI_H
#define MLPB_CLI_H

#include <stdint.h>

#include "../engine/plan.h"
#include "../sys/exitcode.h"

#define CLI_MAX_BACKENDS 64 /* names a --backend list may hold (the default list: every one) */
#define CLI_MAX_PEERS PLAN_MAX_PEERS

typedef struct {
  const char *cmd;
  const char *backends; /* comma list, NULL: every available one */
  const char *workload; /* a workload name (workloads/workload.c) | all */
  const char *data;
  const char *blas_kernel;
  const char *out_dir;
  const char *results;  /* bench: results file (default results/bench-DATE-HOST.json) */
  const char *markdown; /* bench: also write the table here */
  const char *plots_dir;
  const char *peers; /* numpy,torch */
  const char *path;  /* --path: a code path of backends that offer several */
  int format;        /* results_format */
  int sweep;
  int require_quiet; /* bench --require-quiet */
  wl_config wl;
  uint64_t seed;
  int threads, ftz, tf32;
  int warmup, repeat, block;
  int processes;
  int peer_timeout_s;
  int fd_samples;
  int quiet;
  const char *check; /* conform --check */
  int time_limit;    /* conform --time-limit, seconds (0: 120) */
  int ftz_only;      /* conform --ftz: FTZ/DAZ on only (ftz 0: off only; neither: both) */
} cli_opts;

/* Parses argv[1..] of a subcommand; prints a message and returns EXIT_USAGE on error, or -1
 * after printing help. `allowed` is a string of the option letters the command takes. */
int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, cli_opts *o);
void cli_print_help(const char *cmd, const char *allowed, const char *synopsis);
/* The option table (what --help prints): for tools that drive the parser, like the fuzzer. */
int cli_option_count(void);
const char *cli_option(int i, int *key, int *has_arg);

/* The plan of a command: backends (unknown names are usage errors; unavailable ones named
 * explicitly are reported, skipped, and *worst becomes EXIT_RUNTIME), workloads (--workload,
 * else default_workload; "all": every workload the registry puts in all), peers and every
 * setting. 0, or EXIT_USAGE after a message. */
int cli_plan(const cli_opts *o, const char *default_workload, run_plan *p, int *worst);

/* --blas-kernel and the backends' wait policies: re-runs this process with the environment
 * their libraries read when they load. */
void cli_apply_tuning(const cli_opts *o);
/* Who chose the math library's kernel this process runs, for the results' context. */
const char *cli_kernel_chooser(const cli_opts *o);
/* The threads' wait policy of this run and who chose it, for the results context
 * ("GOMP_SPINCOUNT=10000 (set by mlpbench)"); "" when no backend's threads need one. */
void cli_wait_policy(char *buf, size_t len);
extern char **cli_argv; /* main's argv, for re-running */

int cmd_list(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_process(int argc, char **argv); /* internal: one of bench --processes' */
int cmd_gradcheck(int argc, char **argv);
int cmd_export_png(int argc, char **argv);
int cmd_export_results(int argc, char **argv);

/* The one message for argv[i] that a hand-parsed command (plot, report, export) could not
 * take: a second file, an option without its value, or an unknown option; returns
 * EXIT_USAGE. */
int cli_stray(const char *cmd, char **argv, int argc, int i, const char *usage);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_conform(int argc, char **argv);
int cmd_conform_child(int argc, char **argv); /* internal: one backend's conform checks */

#endif
