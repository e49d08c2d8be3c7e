/* plan_file.h: a run plan as a file, so that bench --processes hands each fresh process the
 * very plan the parent made (never a command line parsed again, which getopt's abbreviations
 * once turned into a process that started processes of its own). Its keys are the option
 * table's (options.h) and it is read back through the same setters and planning as a command
 * line: a plan is checked as one (ranges, lists, names, destinations). */
#ifndef MLPB_PLAN_FILE_H
#define MLPB_PLAN_FILE_H

#include <stddef.h>

#include "options.h"

/* Writes p to path (atomically); 0, or -1 with err. */
int plan_write(const char *path, const run_plan *p, char *err, size_t len);
/* Reads a plan written by plan_write into option values, as a command line is parsed: each
 * key through its option's setter, nothing loaded and nothing run (opt_plan does that, as for
 * a command line). *out lives until plan_release. -1 with err on any refusal (an option's own
 * message is on stderr first). */
int plan_read(const char *path, opt_values **out, char *err, size_t len);
/* Frees what plan_read holds. */
void plan_release(void);

#endif
