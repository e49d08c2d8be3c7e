#include "wl_describe.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* where each identity fact sits in a live workload: wl_identity.h's one list, expanded here */
typedef enum { SAME, STR, FULL } live_kind;
static const struct {
  live_kind kind;
  size_t off, size; /* in wl_identity */
  size_t w_off;     /* in workload */
} live[] = {
#define F(label, obj, key, type, m, rw_m, w_m, w_kind)                                             \
  {w_kind, offsetof(wl_identity, m), sizeof(((wl_identity *)0)->m), offsetof(workload, w_m)},
    WL_IDENTITY_FIELDS(F)
#undef F
};

/* a SAME member has the identity's size in the workload too */
#define SAME_SIZE(label, obj, key, type, m, rw_m, w_m, w_kind)                                     \
  _Static_assert(w_kind != SAME || sizeof(((wl_identity *)0)->m) == sizeof(((workload *)0)->w_m),  \
                 "wl_identity." #m " and workload." #w_m " differ in size");
WL_IDENTITY_FIELDS(SAME_SIZE)
#undef SAME_SIZE

void wl_describe_identity(const workload *w, wl_identity *id) {
  memset(id, 0, sizeof *id);
  for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
    char *dst = (char *)id + live[i].off;
    const char *src = (const char *)w + live[i].w_off;
    const char *text = live[i].kind == STR ? *(const char *const *)src : NULL;
    if (live[i].kind == STR)
      snprintf(dst, live[i].size, "%s", text ? text : "");
    else if (live[i].kind == FULL)
      *(int *)dst = *(const wl_order *)src == WL_ORDER_FULL;
    else
      memcpy(dst, src, live[i].size);
  }
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
