#include "run_identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_identity.h"

typedef enum { MI_INT, MI_STR } mi_type;

/* when a field takes part: always (the host's hardware), when both files name one (the GPU:
 * a file records it only when a device backend ran, and a CPU row's speed does not depend on
 * whether one also ran), only when both rows record their own library (the row's kernel and
 * threads), or only when one does not (the files') */
typedef enum { MI_HOST, MI_NAMED, MI_OWN, MI_FILE } mi_when;

static const struct {
  const char *label; /* as a message names it */
  mi_type type;
  mi_when when;
  size_t off;
} fields[] = {
#define F(label, type, when, m)                                                                    \
  { label, type, when, offsetof(machine_id, m) }
    F("CPU", MI_STR, MI_HOST, cpu),
    F("cores", MI_INT, MI_HOST, cores),
    F("GPU", MI_STR, MI_NAMED, gpu),
    F("BLAS kernel", MI_STR, MI_OWN, kernel),
    F("BLAS threads", MI_INT, MI_OWN, threads),
    F("BLAS kernel", MI_STR, MI_FILE, file_kernel),
    F("BLAS threads", MI_INT, MI_FILE, file_threads),
#undef F
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

void machine_id_of(const report *r, const report_row *row, machine_id *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->cpu, sizeof m->cpu, "%s", r->ctx.cpu);
  m->cores = r->ctx.cores;
  snprintf(m->gpu, sizeof m->gpu, "%s", r->ctx.gpu);
  m->own = row->library_known;
  snprintf(m->kernel, sizeof m->kernel, "%s", m->own ? row->kernel : r->ctx.blas_kernel);
  m->threads = m->own ? row->threads : r->ctx.blas_threads;
  snprintf(m->file_kernel, sizeof m->file_kernel, "%s", r->ctx.blas_kernel);
  m->file_threads = r->ctx.blas_threads;
}

static int field_applies(mi_when when, const machine_id *a, const machine_id *b, size_t off) {
  if (when == MI_HOST) return 1;
  if (when == MI_NAMED) return *((const char *)a + off) && *((const char *)b + off);
  return (when == MI_OWN) == (a->own && b->own);
}

int machine_id_diff(const machine_id *a, const char *fa, const machine_id *b, const char *fb,
                    char *why, size_t len) {
  for (size_t i = 0; i < N_FIELDS; i++) {
    if (!field_applies(fields[i].when, a, b, fields[i].off)) continue;
    const char *pa = (const char *)a + fields[i].off, *pb = (const char *)b + fields[i].off;
    int str = fields[i].type == MI_STR;
    if (str ? strcmp(pa, pb) == 0 : *(const int *)pa == *(const int *)pb) continue;
    if (str)
      snprintf(why, len, "%s '%s' in %s, '%s' in %s", fields[i].label, pa, fa, pb, fb);
    else
      snprintf(why, len, "%s %d in %s, %d in %s", fields[i].label, *(const int *)pa, fa,
               *(const int *)pb, fb);
    return 1;
  }
  return 0;
}

/* FNV-1a, 64 bits: stable across builds and machines, so names made from it are too */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ c[i]) * 0x100000001b3ULL;
  return h;
}

#define FNV_SEED 0xcbf29ce484222325ULL

/* a string with its terminator, so "ab"+"c" and "a"+"bc" differ */
static uint64_t fnv_str(uint64_t h, const char *s) {
  return fnv(h, s, strlen(s) + 1);
}

uint64_t machine_id_hash(const machine_id *m) {
  uint64_t h = FNV_SEED;
  for (size_t i = 0; i < N_FIELDS; i++) {
    if (fields[i].when != MI_HOST && fields[i].when != MI_NAMED) continue;
    const char *p = (const char *)m + fields[i].off;
    h = fields[i].type == MI_STR ? fnv_str(h, p) : fnv(h, p, sizeof(int));
  }
  return h;
}

uint64_t run_fingerprint(const report *r, const report_workload *w, const report_row *row) {
  uint64_t h = FNV_SEED;
  const char *text[] = {r->ctx.date,    r->ctx.host, r->ctx.commit,
                        r->ctx.command, w->name,     row->backend};
  for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
    h = fnv_str(h, text[i]);
  h = fnv(h, &row->n_samples, sizeof row->n_samples);
  /* the samples' bits: two distinct runs never time every epoch alike */
  for (int i = 0; i < row->n_samples; i++)
    h = fnv(h, &row->samples[i], sizeof row->samples[i]);
  return h;
}

static int set_grow(run_set *s) {
  size_t cap = s->cap ? 2 * s->cap : 64;
  uint64_t *slot = calloc(cap, sizeof *slot);
  if (!slot) return -1;
  for (size_t i = 0; i < s->cap; i++) {
    if (!s->slot[i]) continue;
    size_t k = s->slot[i] & (cap - 1);
    while (slot[k])
      k = (k + 1) & (cap - 1);
    slot[k] = s->slot[i];
  }
  free(s->slot);
  s->slot = slot;
  s->cap = cap;
  return 0;
}

int run_set_add(run_set *s, uint64_t fp) {
  if (!fp) fp = 1;
  if (2 * (s->n + 1) > s->cap && set_grow(s)) return -1; /* at most half full */
  size_t k = fp & (s->cap - 1);
  for (; s->slot[k]; k = (k + 1) & (s->cap - 1))
    if (s->slot[k] == fp) return 0;
  s->slot[k] = fp;
  s->n++;
  return 1;
}

void run_set_free(run_set *s) {
  free(s->slot);
  memset(s, 0, sizeof *s);
}

int run_series_name(const report *r, const report_workload *w, const report_row *row, char *out,
                    size_t len) {
  /* the workload's whole identity, through its own table (so a new fact joins the name) */
  wl_identity id;
  wl_identity_of(w, &id);
  json_t *o = json_object();
  char *text = o && wl_identity_to_json(&id, o) == 0
                   ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
                   : NULL;
  json_decref(o);
  if (!text) return -1;
  uint64_t wh = fnv_str(FNV_SEED, text);
  free(text);
  /* the machine as the row saw it: host fields, and the row's own kernel and threads */
  machine_id m;
  machine_id_of(r, row, &m);
  uint64_t mh = FNV_SEED;
  for (size_t i = 0; i < N_FIELDS; i++) {
    if (fields[i].when == MI_FILE) continue;
    const char *p = (const char *)&m + fields[i].off;
    mh = fields[i].type == MI_STR ? fnv_str(mh, p) : fnv(mh, p, sizeof(int));
  }
  char threads[16] = "";
  if (m.threads > 0) snprintf(threads, sizeof threads, " t%d", m.threads);
  snprintf(out, len, "%s %d-%d-%d b%d w%08x/%s/m%08x%s", w->name, w->spec.n_in, w->spec.n_hidden,
           w->spec.n_out, w->batch, (unsigned)(wh >> 32), row->backend, (unsigned)(mh >> 32),
           threads);
  return 0;
}
