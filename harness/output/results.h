/* results.h: a bench report as JSON (jansson): mlpbench's own schema, Google Benchmark's
 * (read by google/benchmark's tools/compare.py) and github-action-benchmark's
 * customSmallerIsBetter list, and Bencher Metric Format. Files are written atomically: temp
 * file, fsync, rename. */
#ifndef MLPB_RESULTS_H
#define MLPB_RESULTS_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

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
/* The name of format f, or NULL past the last (the option table lists them). */
const char *results_format_name(int f);
int results_write(const char *path, json_t *j, char *err, size_t len);
/* Where an export in format f of the native file results_path goes: beside it,
 * "DIR/NAME.json" -> "DIR/NAME.F.json". 0, or -1 when it does not fit len. */
int results_export_path(const char *results_path, results_format f, char *out, size_t len);

/* results/bench-STAMP-HOST.json, the host through safe_name (so a host name can neither
 * climb out of results/ nor put a control character into a path). */
void results_default_path(char *out, size_t len, const char *host, time_t when);

/* Creates the folder of `path` if needed and proves it writable, before a long run. */
int results_check_writable(const char *path, char *err, size_t len);

/* The cap on a file read back as JSON (results files, plans): 64 MiB. A results file of a
 * long sweep with every sample is a few MiB; jansson's tree costs about 30 times the file,
 * so the cap keeps a stray file to about 2 GiB of memory. */
#define RESULTS_MAX_FILE ((size_t)64 << 20)

/* The one careful reader for JSON mlpbench reads back (results files for history, report,
 * compare, plot and bench --processes; plans): file_read_max's rules (regular files only,
 * opened non-blocking, RESULTS_MAX_FILE), then parsed. NULL with "PATH: why" in err. */
json_t *results_load_json(const char *path, char *err, size_t len);
/* Reads a native results file back (rows, samples, statistics, curves, sweeps). */
int results_read(const char *path, report *r, char *err, size_t len);
int results_from_json(const json_t *j, report *r, char *err, size_t len);

#endif
