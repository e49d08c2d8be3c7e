#include "wl_identity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *label; /* as a message names it */
  const char *obj;   /* the nested object of a results workload holding it, or NULL */
  const char *key;
  id_type type;
  size_t off, size; /* in wl_identity */
  size_t rw_off;    /* in report_workload, of the same type and size */
} fields[] = {
#define F(label, obj, key, type, m, rw_m, w_m, w_kind)                                             \
  {label,                                                                                          \
   obj,                                                                                            \
   key,                                                                                            \
   type,                                                                                           \
   offsetof(wl_identity, m),                                                                       \
   sizeof(((wl_identity *)0)->m),                                                                  \
   offsetof(report_workload, rw_m)},
    WL_IDENTITY_FIELDS(F)
#undef F
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

/* the report's members are the identity's types and sizes (a name or sampling may not be cut
 * on the way): checked once here, for every field */
#define SAME_SHAPE(label, obj, key, type, m, rw_m, w_m, w_kind)                                    \
  _Static_assert(sizeof(((wl_identity *)0)->m) == sizeof(((report_workload *)0)->rw_m),            \
                 "wl_identity." #m " and report_workload." #rw_m " differ in size");
WL_IDENTITY_FIELDS(SAME_SHAPE)
#undef SAME_SHAPE

void wl_identity_of(const report_workload *w, wl_identity *id) {
  memset(id, 0, sizeof *id);
  for (size_t i = 0; i < N_FIELDS; i++)
    memcpy((char *)id + fields[i].off, (const char *)w + fields[i].rw_off, fields[i].size);
}

void wl_identity_to_workload(const wl_identity *id, report_workload *w) {
  for (size_t i = 0; i < N_FIELDS; i++)
    memcpy((char *)w + fields[i].rw_off, (const char *)id + fields[i].off, fields[i].size);
}

static json_t *field_json(const void *p, id_type t) {
  char hex[24];
  switch (t) {
  case ID_INT:
    return json_integer(*(const int *)p);
  case ID_BOOL:
    return json_boolean(*(const int *)p);
  case ID_HASH:
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)*(const uint64_t *)p);
    return json_string(hex);
  case ID_STR:
    return json_string(p);
  }
  return NULL;
}

int wl_identity_to_json(const wl_identity *id, json_t *o) {
  for (size_t i = 0; i < N_FIELDS; i++) {
    json_t *dst = o;
    if (fields[i].obj) {
      dst = json_object_get(o, fields[i].obj);
      if (!dst && json_object_set_new(o, fields[i].obj, json_object())) return -1;
      dst = json_object_get(o, fields[i].obj);
    }
    json_t *v = field_json((const char *)id + fields[i].off, fields[i].type);
    if (!json_is_object(dst) || !v || json_object_set_new(dst, fields[i].key, v)) return -1;
  }
  return 0;
}

void wl_identity_from_json(const json_t *o, wl_identity *id) {
  memset(id, 0, sizeof *id);
  for (size_t i = 0; i < N_FIELDS; i++) {
    const json_t *src = fields[i].obj ? json_object_get(o, fields[i].obj) : o;
    json_t *v = json_object_get(src, fields[i].key);
    void *p = (char *)id + fields[i].off;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    const char *s = json_string_value(v);
    switch (fields[i].type) {
    case ID_INT:
      *(int *)p = isfinite(x) && fabs(x) < 2e9 ? (int)x : 0;
      break;
    case ID_BOOL:
      *(int *)p = json_is_true(v);
      break;
    case ID_HASH:
      *(uint64_t *)p = s ? strtoull(s, NULL, 16) : 0;
      break;
    case ID_STR:
      snprintf(p, fields[i].size, "%s", s ? s : "");
      break;
    }
  }
}

static void show(char *buf, size_t len, const void *p, id_type t) {
  if (t == ID_INT || t == ID_BOOL)
    snprintf(buf, len, "%d", *(const int *)p);
  else if (t == ID_HASH)
    snprintf(buf, len, "%016llx", (unsigned long long)*(const uint64_t *)p);
  else
    snprintf(buf, len, "'%s'", (const char *)p);
}

int wl_identity_diff(const wl_identity *a, const char *fa, const wl_identity *b, const char *fb,
                     char *why, size_t len) {
  for (size_t i = 0; i < N_FIELDS; i++) {
    const char *pa = (const char *)a + fields[i].off, *pb = (const char *)b + fields[i].off;
    int same = fields[i].type == ID_STR    ? strcmp(pa, pb) == 0
               : fields[i].type == ID_HASH ? *(const uint64_t *)pa == *(const uint64_t *)pb
                                           : *(const int *)pa == *(const int *)pb;
    if (same) continue;
    char va[64], vb[64];
    show(va, sizeof va, pa, fields[i].type);
    show(vb, sizeof vb, pb, fields[i].type);
    snprintf(why, len, "%s %s in %s, %s in %s", fields[i].label, va, fa, vb, fb);
    return 1;
  }
  return 0;
}
