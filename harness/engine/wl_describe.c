#include "wl_describe.h"

#include <stdio.h>
#include <string.h>

void wl_describe_identity(const workload *w, wl_identity *id) {
  memset(id, 0, sizeof *id);
  snprintf(id->name, sizeof id->name, "%s", w->name);
  id->n_in = w->spec.n_in;
  id->n_hidden = w->spec.n_hidden;
  id->n_out = w->spec.n_out;
  id->data_hash = w->data_hash;
  id->n_train = w->n_train;
  id->batch = w->batch;
  snprintf(id->sampling, sizeof id->sampling, "%s", w->sampling_label);
  id->zero_grad = w->zero_grad;
  id->full_batch = w->order == WL_ORDER_FULL;
  id->has_accuracy = w->has_accuracy;
}

void wl_describe(const run_plan *p, const workload *w, report_workload *rw) {
  wl_identity id;
  rw->spec = w->spec;
  wl_describe_identity(w, &id);
  wl_identity_to_workload(&id, rw);
  snprintf(rw->dataset, sizeof rw->dataset, "%s", w->data_label);
  snprintf(rw->dataset_source, sizeof rw->dataset_source, "%s", w->data_source);
  snprintf(rw->data_title, sizeof rw->data_title, "%s", w->data_title);
  rw->n_val = w->n_val;
  rw->n_test = w->n_test;
  rw->batches_per_epoch = w->batches_per_epoch;
  rw->epochs = w->epochs;
  rw->warmup = p->warmup;
  rw->repeat = plan_repeat(p, w);
  rw->block = plan_block(p, w);
  rw->samples_per_epoch = w->samples_per_epoch;
  rw->gflop_per_epoch = w->gflop_per_epoch;
}
