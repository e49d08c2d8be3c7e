/* runner.h: runs a bench plan and returns its report, pure data; the command layer parses,
 * plans, calls this, and hands the report to the outputs. */
#ifndef MLPB_RUNNER_H
#define MLPB_RUNNER_H

#include "../output/report.h"
#include "../sys/exitcode.h"
#include "plan.h"

/* Called after each workload, for progress (the table of what finished). */
typedef void (*runner_done)(const report *rep, const report_workload *w);

/* Runs p's workloads here, or each in p->processes fresh processes, into rep (its context
 * from ctx; rep is owned by the caller, report_free). Returns the worst exit code
 * (EXIT_USAGE stops it). broken is "" for a whole run; else rep is not the run asked for
 * and broken says why (a workload's setup failed, a process did not start or failed). */
int runner_bench(const run_plan *p, const report_context *ctx, report *rep, runner_done done,
                 char *broken, size_t blen);

#endif
