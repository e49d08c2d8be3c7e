/* wl_identity.h: what identifies a workload from one results file to the next: the model,
 * the data, the batch and how batches are drawn, gradient accumulation, labels or targets.
 * One struct and one field table. The table drives the results file (where each fact is
 * written and read), the peers' exchange (run.json sends it, the peer echoes it back),
 * compare's signature and history's series key, so none of them can disagree about what
 * "the same workload" is. */
#ifndef MLPB_WL_IDENTITY_H
#define MLPB_WL_IDENTITY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* The one list of identity facts, in file order. Each entry:
 *   X(label as messages say it, nested object or NULL, key, type,
 *     wl_identity member, report_workload member, live workload's member, how it is read there)
 * where the live workload's member is read SAME (the same type), STR (a const char *) or FULL
 * (its wl_order, true when WL_ORDER_FULL). wl_identity.c expands it for the struct, the results
 * file and the report's workload; run/wl_describe.c for a live workload. */
#define WL_IDENTITY_FIELDS(X)                                                                      \
  X("workload", NULL, "name", ID_STR, name, name, name, STR)                                       \
  X("model inputs", "spec", "n_in", ID_INT, n_in, spec.n_in, spec.n_in, SAME)                      \
  X("hidden width", "spec", "n_hidden", ID_INT, n_hidden, spec.n_hidden, spec.n_hidden, SAME)      \
  X("outputs", "spec", "n_out", ID_INT, n_out, spec.n_out, spec.n_out, SAME)                       \
  X("data", "dataset", "hash", ID_HASH, data_hash, dataset_hash, data_hash, SAME)                  \
  X("training samples", NULL, "n_train", ID_INT, n_train, n_train, n_train, SAME)                  \
  X("batch", NULL, "batch", ID_INT, batch, batch, batch, SAME)                                     \
  X("sampling", NULL, "sampling", ID_STR, sampling, sampling, sampling_label, STR)                 \
  X("zero_grad", NULL, "zero_grad", ID_BOOL, zero_grad, zero_grad, zero_grad, SAME)                \
  X("full batch", NULL, "full_batch", ID_BOOL, full_batch, full_batch, order, FULL)                \
  X("class labels", NULL, "has_accuracy", ID_BOOL, has_accuracy, has_accuracy, has_accuracy, SAME)

typedef enum { ID_INT, ID_BOOL, ID_HASH, ID_STR } id_type;

typedef struct {
  char name[sizeof((report_workload *)0)->name];
  int n_in, n_hidden, n_out;
  uint64_t data_hash;
  int n_train, batch;
  char sampling[sizeof((report_workload *)0)->sampling];
  int zero_grad, full_batch, has_accuracy;
} wl_identity;

void wl_identity_of(const report_workload *w, wl_identity *id);
/* The inverse: the identity's facts into a report's workload (the rest left as they are). */
void wl_identity_to_workload(const wl_identity *id, report_workload *w);

/* Each fact at its place in a results file's workload object: "batch", "spec"."n_in",
 * "dataset"."hash" (the nested objects made when missing). */
int wl_identity_to_json(const wl_identity *id, json_t *o);
/* Missing or mistyped keys read as empty, 0 or false: a file from elsewhere is data. */
void wl_identity_from_json(const json_t *o, wl_identity *id);

/* 0 when a (from file fa) and b (from fb) are the same workload; else 1, with the first
 * difference in why ("batch 128 in A.json, 64 in B.json"). */
int wl_identity_diff(const wl_identity *a, const char *fa, const wl_identity *b, const char *fb,
                     char *why, size_t len);

#endif
