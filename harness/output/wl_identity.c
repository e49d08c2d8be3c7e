#include "wl_identity.h"

#include <stdio.h>
#include <string.h>

typedef enum { ID_INT, ID_HASH, ID_STR } id_type;

static const struct {
  const char *label; /* as a message names it */
  id_type type;
  size_t off;
} fields[] = {
    {"workload", ID_STR, offsetof(wl_identity, name)},
    {"model inputs", ID_INT, offsetof(wl_identity, n_in)},
    {"hidden width", ID_INT, offsetof(wl_identity, n_hidden)},
    {"outputs", ID_INT, offsetof(wl_identity, n_out)},
    {"data", ID_HASH, offsetof(wl_identity, data_hash)},
    {"training samples", ID_INT, offsetof(wl_identity, n_train)},
    {"batch", ID_INT, offsetof(wl_identity, batch)},
    {"sampling", ID_STR, offsetof(wl_identity, sampling)},
    {"zero_grad", ID_INT, offsetof(wl_identity, zero_grad)},
    {"full batch", ID_INT, offsetof(wl_identity, full_batch)},
    {"class labels", ID_INT, offsetof(wl_identity, has_accuracy)},
};

void wl_identity_of(const report_workload *w, wl_identity *id) {
  memset(id, 0, sizeof *id);
  snprintf(id->name, sizeof id->name, "%s", w->name);
  id->n_in = w->spec.n_in;
  id->n_hidden = w->spec.n_hidden;
  id->n_out = w->spec.n_out;
  id->data_hash = w->dataset_hash;
  id->n_train = w->n_train;
  id->batch = w->batch;
  snprintf(id->sampling, sizeof id->sampling, "%s", w->sampling);
  id->zero_grad = w->zero_grad;
  id->full_batch = w->full_batch;
  id->has_accuracy = w->has_accuracy;
}

static void show(char *buf, size_t len, const void *p, id_type t) {
  if (t == ID_INT)
    snprintf(buf, len, "%d", *(const int *)p);
  else if (t == ID_HASH)
    snprintf(buf, len, "%016llx", (unsigned long long)*(const uint64_t *)p);
  else
    snprintf(buf, len, "'%s'", (const char *)p);
}

int wl_identity_diff(const wl_identity *a, const char *fa, const wl_identity *b, const char *fb,
                     char *why, size_t len) {
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const char *pa = (const char *)a + fields[i].off, *pb = (const char *)b + fields[i].off;
    int same = fields[i].type == ID_INT    ? *(const int *)pa == *(const int *)pb
               : fields[i].type == ID_HASH ? *(const uint64_t *)pa == *(const uint64_t *)pb
                                           : strcmp(pa, pb) == 0;
    if (same) continue;
    char va[64], vb[64];
    show(va, sizeof va, pa, fields[i].type);
    show(vb, sizeof vb, pb, fields[i].type);
    snprintf(why, len, "%s %s in %s, %s in %s", fields[i].label, va, fa, vb, fb);
    return 1;
  }
  return 0;
}
