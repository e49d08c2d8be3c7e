/* mlpbench bench: the command: parses, plans, checks the destinations, runs the plan
 * (runner.c) and writes what it returned: a results file (always), and optionally a
 * Markdown table and plots. */
#define _GNU_SOURCE
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../workloads/io/outfile.h"
#include "../backends/be_handle.h"
#include "../backends/registry.h"
#include "../output/plots.h"
#include "../output/report.h"
#include "../output/reporter.h"
#include "../output/results.h"
#include "../output/table.h"
#include "../run/plan_file.h"
#include "../run/runner.h"
#include "../sys/interrupt.h"
#include "../sys/term_text.h"
#include "cli.h"

static const char *bench_allowed = "bwdneBHlSZstFTCWrkKfqRMPxOpNJQ";

static void default_results_path(char *out, size_t len) {
  report_context c;
  report_context_fill(&c, 0, NULL);
  results_default_path(out, len, c.host, time(NULL));
}

/* The run's outputs, each through its reporter. */
static int write_outputs(const run_plan *p, const report *rep, const char *results_path,
                         int child) {
  char err[PATH_MAX + 256];
  /* the native file always (compare, history, report and plot read it), an export beside it */
  if (reporter_results.write(rep, results_path, RESULTS_NATIVE, err, sizeof err)) {
    fprintf(stderr, "mlpbench bench: %s\n", TERM_TEXT(err));
    return EXIT_RUNTIME;
  }
  if (!child) /* a --processes child's file is its parent's to read, not the user's */
    fprintf(stderr, "mlpbench bench: results written to %s\n", TERM_TEXT(results_path));
  char xp[PATH_MAX];
  if (p->out.format != RESULTS_NATIVE) {
    if (results_export_path(results_path, p->out.format, xp, sizeof xp) ||
        reporter_results.write(rep, xp, p->out.format, err, sizeof err)) {
      fprintf(stderr, "mlpbench bench: %s\n", TERM_TEXT(err));
      return EXIT_RUNTIME;
    }
    fprintf(stderr, "mlpbench bench: export written to %s\n", TERM_TEXT(xp));
  }
  if (p->out.markdown && reporter_markdown.write(rep, p->out.markdown, 0, err, sizeof err)) {
    fprintf(stderr, "mlpbench bench: %s\n", TERM_TEXT(err));
    return EXIT_RUNTIME;
  }
  if (p->out.plots) { /* each failed plot said what failed */
    int bad = reporter_plots.write(rep, p->out.plots, 0, err, sizeof err) != 0;
    plots_say("plots", p->out.plots, bad);
    if (bad) return EXIT_RUNTIME;
  }
  return EXIT_OK;
}

static void print_workload(const report *rep, const report_workload *w) {
  table_print_header(stdout, rep, w);
  registry_print_advice(stdout, "warning: ");
  table_print(stdout, w);
}

/* --require-quiet: a message per disturbed row; 1 when there was one. Every output is written
 * first, as for a failed check: the file says what was seen, the exit status that it was not
 * a number to keep. */
static int require_quiet(const report *rep) {
  int n = 0;
  for (int w = 0; w < rep->n_wl; w++)
    for (int i = 0; i < rep->wl[w].n_rows; i++) {
      const report_row *r = &rep->wl[w].rows[i];
      if (!r->disturbed) continue;
      fprintf(stderr, "mlpbench bench: --require-quiet: %s/%s was disturbed: %s\n",
              TERM_TEXT(rep->wl[w].name), TERM_TEXT(r->backend), TERM_TEXT(r->disturbed_reason));
      n++;
    }
  return n > 0;
}

/* Runs a plan whose destinations were checked, then writes its outputs, unless interrupted
 * or a process failed (a results file holds a whole run or nothing, the previous one stays). */
static int bench_plan(const run_plan *p, const report_context *ctx, const char *results_path,
                      int worst, int child) {
  report rep;
  char broken[PATH_MAX + 512];
  /* a --processes child prints no table: the parent prints the merged one, and shows what a
   * child prints as the child's own */
  int r = runner_bench(p, ctx, &rep, child ? NULL : print_workload, broken, sizeof broken);
  worst = r > worst ? r : worst;
  if (r == EXIT_USAGE || broken[0] || mlpb_stop_signal) {
    if (mlpb_stop_signal)
      fprintf(stderr, "mlpbench bench: interrupted by signal %d: no results file written\n",
              (int)mlpb_stop_signal);
    else if (broken[0])
      fprintf(stderr, "mlpbench bench: %s: no results file written (the previous one is kept)\n",
              TERM_TEXT(broken));
    report_free(&rep);
    return mlpb_stop_signal ? interrupt_exit_code() : worst;
  }
  int wr = write_outputs(p, &rep, results_path, child);
  worst = wr > worst ? wr : worst;
  if (p->require_quiet && require_quiet(&rep)) worst = worst > EXIT_RUNTIME ? worst : EXIT_RUNTIME;
  report_free(&rep);
  return worst;
}

int cmd_bench(int argc, char **argv) {
  cli_opts o;
  run_plan p;
  char default_path[256];
  int worst, rc = cli_parse(argc, argv, "bench", bench_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("bench", bench_allowed,
                     "Times each backend per epoch (median, IQR, min, max over the timed "
                     "samples) after checking its gradients,\nand writes every sample to a "
                     "results file. GFLOP/s counts the GEMMs only: 4*n_in*H + 6*H*n_out FLOPs "
                     "per sample per step.");
    return rc < 0 ? EXIT_OK : rc;
  }
  if (!o.plan.out.results) { /* set before the outputs are checked and made absolute */
    default_results_path(default_path, sizeof default_path);
    o.plan.out.results = default_path;
  }
  if ((rc = cli_apply_tuning(&o))) return rc;
  char kernel_err[512];
  if (registry_kernel_unmet(o.blas_kernel, kernel_err, sizeof kernel_err)) {
    fprintf(stderr, "mlpbench bench: %s\n", TERM_TEXT(kernel_err));
    return EXIT_USAGE;
  }
  if ((rc = cli_plan(&o, "all", &p, &worst))) return rc;
  for (int i = 0; i < p.n_backends; i++)
    if (be_props(p.backends[i])->emulated) {
      fprintf(stderr,
              "mlpbench bench: %s runs device code in an emulator on the CPU: its speed means "
              "nothing, so bench does not time it (gradcheck, train and the tests check its "
              "correctness)\n",
              p.backends[i]->name);
      return EXIT_USAGE;
    }
  const char *results_path = p.out.results; /* checked and absolute (opt_prepare) */
  report_context ctx;                       /* filled once: this command, this machine */
  report_context_fill(&ctx, argc + 1, argv - 1);
  snprintf(ctx.blas_kernel_by, sizeof ctx.blas_kernel_by, "%s", cli_kernel_chooser(&o));
  cli_wait_policy(ctx.wait_policy, sizeof ctx.wait_policy);
  interrupt_install();
  return bench_plan(&p, &ctx, results_path, worst, 0);
}

/* mlpbench bench-process PLAN.json: one of bench --processes' fresh processes, running the
 * plan its parent wrote (not a command line: nothing is parsed twice). Internal. */
int cmd_bench_process(int argc, char **argv) {
  opt_values *o;
  char err[PATH_MAX + 256];
  int worst;
  if (argc != 2) {
    fprintf(stderr, "mlpbench bench-process: internal to bench --processes: needs PLAN.json\n");
    return EXIT_USAGE;
  }
  if (plan_read(argv[1], &o, err, sizeof err)) {
    fprintf(stderr, "mlpbench bench-process: %s\n", TERM_TEXT(err));
    return EXIT_USAGE;
  }
  /* planned as a command line is: outputs checked, then plugins loaded, then the names */
  int rc = opt_plan(o, "all", &worst);
  if (!rc && worst) { /* a backend the parent ran is unavailable here */
    fprintf(stderr, "mlpbench bench-process: %s: names a backend unavailable here\n",
            TERM_TEXT(argv[1]));
    rc = EXIT_RUNTIME;
  }
  if (!rc && (!o->plan.out.results || o->plan.processes != 1)) {
    fprintf(stderr, "mlpbench bench-process: %s: a plan of one process with a results file\n",
            TERM_TEXT(argv[1]));
    rc = EXIT_USAGE;
  }
  if (!rc) {
    run_plan p = o->plan;
    report_context ctx;
    report_context_fill(&ctx, argc + 1, argv - 1);
    interrupt_install();
    rc = bench_plan(&p, &ctx, p.out.results, EXIT_OK, 1);
  }
  plan_release();
  return rc;
}
