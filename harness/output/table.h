/* table.h: the Markdown timing table, in the spirit of the benchmark the tutorial cites. */
#ifndef MLPB_TABLE_H
#define MLPB_TABLE_H

#include <stdio.h>

#include "report.h"

/* The row's memory figures ("RSS +12.3 MiB; device 450 MiB"), "-" when none. */
/* "12.3 MiB", or "-" for a missing figure (NaN). */
void table_fmt_mib(char *buf, size_t len, double bytes);
void table_fmt_memory(char *buf, size_t len, const report_row *r);
void table_fmt_time(char *buf, size_t len, double seconds);
void table_print_header(FILE *f, const report *r, const report_workload *w);
/* Rows must be sorted (report_sort_rows): ranked rows first, fastest first. */
void table_print(FILE *f, const report_workload *w);
/* The line under a table that names its disturbed rows, what was seen and what to do; nothing
 * when every row was measured on a quiet machine. */
void table_print_disturbed(FILE *f, const report_workload *w);

#endif
