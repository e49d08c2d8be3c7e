/* cli.h: the command layer: options shared by the mlpbench subcommands, parsed once into a
 * run plan (plan.h). Only cmd_*.c and main.c include this. */
#ifndef MLPB_CLI_H
#define MLPB_CLI_H

#include <stdint.h>

#include "../run/options.h"
#include "../sys/exitcode.h"

/* The values of one command: options.h's table fills them (the plan's settings in place). */
typedef opt_values cli_opts;

/* Parses argv[1..] of a subcommand through the option table (options.h) and nothing else: no
 * plugin is loaded, no backend asked (opt_prepare does that, after). Prints a message and
 * returns EXIT_USAGE on error, or -1 on --help. `allowed` is a string of the option letters
 * the command takes; cli_parse takes no operands, cli_parse_args up to max_args (o->args). */
int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, cli_opts *o);
int cli_parse_args(int argc, char **argv, const char *cmd, const char *allowed, int max_args,
                   cli_opts *o);
void cli_print_help(const char *cmd, const char *allowed, const char *synopsis);

/* A command of files and options (compare, history, plot, report, export): its operands on
 * the usage line, how many it takes, its options' letters and what --help says. */
typedef struct {
  const char *name, *operands, *allowed;
  int min_args, max_args; /* max_args 0: any number */
  const char *synopsis;
} cli_command;
/* Parses argv for c: 0 to go on, else the command ends with *rc (EXIT_OK after --help, a
 * usage error after its message: a bad option, too few or too many operands). */
int cli_begin(const cli_command *c, int argc, char **argv, cli_opts *o, int *rc);
/* The same with the command's operands on the usage line ("RESULTS.json"); a synopsis that
 * says its own exit codes replaces the common line. */
void cli_print_usage(const char *cmd, const char *operands, const char *allowed,
                     const char *synopsis);
/* The option table (what --help prints): for tools that drive the parser, like the fuzzer. */
int cli_option_count(void);
const char *cli_option(int i, int *key, int *has_arg);

/* The plan of a command: backends (unknown names are usage errors; unavailable ones named
 * explicitly are reported, skipped, and *worst becomes EXIT_RUNTIME), workloads (--workload,
 * else default_workload; "all": every workload the registry puts in all), peers and every
 * setting. 0, or EXIT_USAGE after a message. */
int cli_plan(cli_opts *o, const char *default_workload, run_plan *p, int *worst);

/* opt_prepare (outputs, plugins, --blas-kernel), then --blas-kernel and the backends' wait
 * policies: re-runs this process with the environment their libraries read when they load.
 * 0, or EXIT_USAGE after a message. */
int cli_apply_tuning(cli_opts *o);
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

int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_conform(int argc, char **argv);
int cmd_conform_child(int argc, char **argv); /* internal: one backend's conform checks */

#endif
