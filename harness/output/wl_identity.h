/* wl_identity.h: what identifies a workload from one results file to the next: the model,
 * the data, the batch and how batches are drawn, gradient accumulation, labels or targets.
 * One struct and one field table: compare's signature and history's series key both come
 * from it, so they cannot disagree about what "the same workload" is. */
#ifndef MLPB_WL_IDENTITY_H
#define MLPB_WL_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

typedef struct {
  char name[sizeof((report_workload *)0)->name];
  int n_in, n_hidden, n_out;
  uint64_t data_hash;
  int n_train, batch;
  char sampling[sizeof((report_workload *)0)->sampling];
  int zero_grad, full_batch, has_accuracy;
} wl_identity;

void wl_identity_of(const report_workload *w, wl_identity *id);
/* 0 when a (from file fa) and b (from fb) are the same workload; else 1, with the first
 * difference in why ("batch 128 in A.json, 64 in B.json"). */
int wl_identity_diff(const wl_identity *a, const char *fa, const wl_identity *b, const char *fb,
                     char *why, size_t len);

#endif
