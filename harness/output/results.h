/* results.h: a bench report as JSON (jansson): mlpbench's own schema, Google Benchmark's
 * (read by google/benchmark's tools/compare.py) and github-action-benchmark's
 * customSmallerIsBetter list, and Bencher Metric Format. Files are written atomically: temp
 * file, fsync, rename. */
#ifndef MLPB_RESULTS_H
#define MLPB_RESULTS_H

#include <jansson.h>
#include <stddef.h>

#include "report.h"

typedef enum {
  RESULTS_NATIVE = 0,
  RESULTS_GBENCH = 1, /* Google Benchmark's JSON */
  RESULTS_GITHUB = 2, /* github-action-benchmark's customSmallerIsBetter */
  RESULTS_BMF = 3     /* Bencher Metric Format (bencher run --adapter json) */
} results_format;

json_t *results_to_json(const report *r, results_format f);
/* The format a --format name means (native, gbench, github, bmf), or -1. */
int results_format_find(const char *name);
int results_write(const char *path, json_t *j, char *err, size_t len);

/* Creates the folder of `path` if needed and proves it writable, before a long run. */
int results_check_writable(const char *path, char *err, size_t len);

/* Reads a native results file back (rows, samples, statistics, curves, sweeps). */
int results_read(const char *path, report *r, char *err, size_t len);
int results_from_json(const json_t *j, report *r, char *err, size_t len);

#endif
