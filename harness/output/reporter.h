/* reporter.h: the outputs of a bench run, each one reporter behind one small interface (as
 * google/benchmark's BenchmarkReporter): it reads a report and nothing else, no registry,
 * no backend, no training, so `plot` and `report` redraw from a results file what bench drew.
 * The HTML page (cmd_report.c) reads the same report, with history and images beside it. */
#ifndef MLPB_REPORTER_H
#define MLPB_REPORTER_H

#include <stddef.h>

#include "report.h"

typedef struct {
  const char *name; /* "results", "markdown", "plots" */
  /* writes r to dest (a file, or the plots' folder); format: the results file's format
   * (results_format), ignored by the others. 0, or -1 with err. */
  int (*write)(const report *r, const char *dest, int format, char *err, size_t len);
} reporter;

extern const reporter reporter_results, reporter_markdown, reporter_plots;

#endif
