/* run_identity.h: what identifies a run's row beside its workload (wl_identity.h): the
 * machine it ran on, and the run itself.
 *
 * The machine is what determines its speed: the CPU model and core count, the BLAS kernel
 * and threads under the row's backend, and the GPU (where both files name one: a file names
 * it only when a device backend ran). The host name is not part of it: CI
 * runners get a new one every job, and a history keyed on it has one series per run. One
 * struct and one field table, used by history's series key, its plot names and compare's
 * refusal of rows from different machines, so none of them can disagree.
 *
 * The run is a fingerprint of the row: its context (date, host, commit, command), workload,
 * backend and every per-epoch sample, so the same run read twice (a folder named twice, a
 * copy of a file) is known and counted once, while two runs of one commit are both kept. */
#ifndef MLPB_RUN_IDENTITY_H
#define MLPB_RUN_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

typedef struct {
  char cpu[sizeof((report_context *)0)->cpu];
  int cores;
  char gpu[sizeof((report_context *)0)->gpu];
  /* the row's BLAS kernel and threads when its file records them per row (own), else the
   * file's, which older files record alone: a series runs on across the change of format */
  char kernel[sizeof((report_row *)0)->kernel];
  int threads;
  char file_kernel[sizeof((report_context *)0)->blas_kernel];
  int file_threads;
  int own;
} machine_id;

void machine_id_of(const report *r, const report_row *row, machine_id *m);

/* 0 when a (from file fa) and b (from fb) are the same machine; else 1, with the first
 * difference in why ("CPU 'Xeon' in A.json, 'EPYC' in B.json"). */
int machine_id_diff(const machine_id *a, const char *fa, const machine_id *b, const char *fb,
                    char *why, size_t len);

/* A hash of the host's fields (CPU, cores, GPU: what every backend of a machine shares, so
 * one trend plot holds them all), for file names. */
uint64_t machine_id_hash(const machine_id *m);

/* A name for the series a row belongs to, for trackers outside mlpbench (Bencher):
 * "mnist 784-500-10 b128 wXXXXXXXX/blas/mXXXXXXXX t2": the workload (w: a hash of its whole
 * identity, so --limit 3000 and the default data are two series), the backend, the machine
 * (m: CPU, cores, GPU, the row's BLAS kernel) and threads. No host name: CI hosts change
 * every job. 0, or -1 when out of memory. */
int run_series_name(const report *r, const report_workload *w, const report_row *row, char *out,
                    size_t len);

/* The fingerprint of one row of one run (see above). */
uint64_t run_fingerprint(const report *r, const report_workload *w, const report_row *row);

/* A set of fingerprints: run_set_add returns 1 when fp was new, 0 when already there, -1
 * when out of memory. */
typedef struct {
  uint64_t *slot; /* open addressing; 0 marks a free slot (a fingerprint of 0 is stored as 1) */
  size_t n, cap;
} run_set;

int run_set_add(run_set *s, uint64_t fp);
void run_set_free(run_set *s);

#endif
