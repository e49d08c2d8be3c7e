/* bench_procs.h: bench --processes N. One process's tight IQR is no measure of how far its
 * median would move in the next process: code and data placement alone move a sub-
 * microsecond epoch by up to 3x between processes (Mytkowicz et al., ASPLOS 2009). So the
 * run is repeated in N fresh processes of this binary, each with an environment of another
 * size (which shifts the initial stack; ASLR moves the rest), and merged: every sample kept,
 * each process's median recorded, the spread across processes reported beside the IQR. */
#ifndef MLPB_BENCH_PROCS_H
#define MLPB_BENCH_PROCS_H

#include "../output/report.h"
#include "plan.h"

/* Runs the plan in p->processes children (`mlpbench bench-process PLAN`, each handed the plan
 * as a file) and merges their reports into rep (every child runs the peers, the first also the
 * sweep, when asked; the caller draws the plots from the merged report). Returns the worst child
 * exit code; EXIT_RUNTIME or worse when a child failed, was killed or its results cannot be read
 * (rep is then not a whole run and must not be written), with why: which process, and what
 * happened to it (not started, killed, failed, no readable results). */
int procs_run(const run_plan *p, report *rep, char *why, size_t wlen);

/* The environment padding for placement i (a variable whose length varies with i). */
void procs_placement_env(int i, char *buf, size_t len);

#endif
