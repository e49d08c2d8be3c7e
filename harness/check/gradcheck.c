#include "gradcheck.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/rng.h"
#include "ref64.h"
#include "tf32.h"

gc_tol gc_tol_fp32(void) {
  return (gc_tol){GC_TOL_FP32, {GC_TOL_FP32, GC_TOL_FP32, GC_TOL_FP32, GC_TOL_FP32}};
}

int gc_tolerance(const mlp_backend *be, const mlp_options *opt, const workload *w,
                 const float *params, const mlp_batch *b, gc_tol *tol) {
  double t[5];
  *tol = gc_tol_fp32();
  if (!opt->tf32 || !be_props(be)->tf32) return 0;
  if (tf32_tolerances(&w->spec, params, b, t, NULL)) return -1;
  *tol = (gc_tol){t[0], {t[1], t[2], t[3], t[4]}};
  return 0;
}

int gc_batch_make(const workload *w, uint64_t seed, gc_batch *gb) {
  memset(gb, 0, sizeof *gb);
  const int n_in = w->spec.n_in, n_out = w->spec.n_out;
  int n = w->order == WL_ORDER_FULL || w->batch > w->n_train ? w->n_train : w->batch;
  int32_t *order = malloc((size_t)w->n_train * sizeof *order);
  gb->x = malloc((size_t)n * n_in * sizeof(float));
  gb->labels = malloc((size_t)n * sizeof(int32_t));
  gb->targets = malloc((size_t)n * n_out * sizeof(float));
  if (!order || !gb->x || !gb->labels || !gb->targets) {
    free(order);
    gc_batch_free(gb);
    return -1;
  }
  for (int i = 0; i < w->n_train; i++)
    order[i] = i;
  if (w->order != WL_ORDER_FULL) {
    rng_t r;
    rng_seed(&r, seed, RNG_STREAM_TEST);
    rng_shuffle_i32(&r, order, w->n_train);
  }
  workload_gather(w, order, n, gb->x, gb->labels, gb->targets, &gb->b);
  free(order);
  return 0;
}

void gc_batch_free(gc_batch *gb) {
  free(gb->x);
  free(gb->labels);
  free(gb->targets);
  memset(gb, 0, sizeof *gb);
}

static double *to_double(const float *p, size_t n) {
  double *d = malloc(n * sizeof *d);
  if (d)
    for (size_t i = 0; i < n; i++)
      d[i] = p[i];
  return d;
}

int gc_reference(const workload *w, const float *params, const mlp_batch *b, double *loss,
                 double **grads) {
  size_t n = mlp_param_count(&w->spec);
  double *p = to_double(params, n);
  *grads = malloc(n * sizeof **grads);
  int rc = (!p || !*grads) ? -1 : ref64_loss_grad(&w->spec, p, b, loss, *grads, NULL);
  free(p);
  if (rc) {
    free(*grads);
    *grads = NULL;
  }
  return rc;
}

static gc_err compare(const float *g, const double *r, size_t n) {
  double se = 0.0, sr = 0.0, mx = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)g[i] - r[i];
    se += d * d;
    sr += r[i] * r[i];
    mx = fabs(d) > mx || isnan(d) ? fabs(d) : mx;
  }
  gc_err e;
  e.rel_l2 = sr > 0.0 ? sqrt(se / sr) : sqrt(se);
  e.nmse = sr > 0.0 ? se / sr : se;
  e.max_abs = mx;
  if (isnan(se)) e.rel_l2 = e.nmse = e.max_abs = NAN;
  return e;
}

double gc_rel_l2(const float *g, const double *r, size_t n) {
  return compare(g, r, n).rel_l2;
}

void gc_judge(const mlp_spec *s, const float *g, double loss, double ref_loss,
              const double *ref_grads, const gc_tol *tol, gc_result *r) {
  size_t n = mlp_param_count(s), off[4];
  mlp_param_offsets(s, off);
  memset(r, 0, sizeof *r);
  r->loss = loss;
  r->loss_ref = ref_loss;
  r->loss_rel = fabs(loss - ref_loss) / (fabs(ref_loss) > 0 ? fabs(ref_loss) : 1.0);
  r->worst = isnan(loss) ? INFINITY : r->loss_rel;
  r->loss_tol = r->tol = tol->loss;
  r->pass = r->worst <= tol->loss;
  size_t end[4] = {off[1], off[2], off[3], n};
  for (int t = 0; t < 4; t++) {
    r->t[t] = compare(g + off[t], ref_grads + off[t], end[t] - off[t]);
    r->t[t].tol = tol->t[t];
    double e = isnan(r->t[t].rel_l2) ? INFINITY : r->t[t].rel_l2;
    r->worst = e > r->worst ? e : r->worst;
    r->tol = tol->t[t] > r->tol ? tol->t[t] : r->tol;
    r->pass &= e <= tol->t[t];
  }
}

int gc_check_handle(be_handle *h, const workload *w, const mlp_batch *b, const float *params,
                    double ref_loss, const double *ref_grads, const gc_tol *tol, gc_result *r,
                    char *err, size_t len) {
  const mlp_backend *be = h->be;
  float *g = malloc(mlp_param_count(&w->spec) * sizeof *g), loss = 0.0f;
  memset(r, 0, sizeof *r);
  if (!g) {
    snprintf(err, len, "%s: out of memory", be->name);
    return -1;
  }
  int rc = -1;
  if (be->set_params(h->ctx, params) || be->zero_grads(h->ctx) ||
      be->forward_backward(h->ctx, b, &loss) || be->get_grads(h->ctx, g))
    snprintf(err, len, "%s: %s", be->name, be_error(h));
  else {
    gc_judge(&w->spec, g, loss, ref_loss, ref_grads, tol, r);
    r->batch = b->n;
    rc = 0;
  }
  free(g);
  return rc;
}

int gc_check_backend(const mlp_backend *be, const mlp_options *opt, const workload *w,
                     const mlp_batch *b, const float *params, double ref_loss,
                     const double *ref_grads, const gc_tol *tol, gc_result *r, char *err,
                     size_t len) {
  mlp_spec spec = w->spec;
  spec.max_batch = b->n > spec.max_batch ? b->n : spec.max_batch;
  be_handle h = {0};
  memset(r, 0, sizeof *r);
  if (be_open(&h, be, &spec, opt, err, len)) return -1;
  int rc = gc_check_handle(&h, w, b, params, ref_loss, ref_grads, tol, r, err, len);
  be_close(&h);
  return rc;
}

/* Loss at params with entry i set to v; *mask gets the ReLU pattern. */
static int loss_at(const mlp_spec *s, double *p, size_t i, double v, const mlp_batch *b,
                   uint8_t *mask, double *loss) {
  double keep = p[i];
  p[i] = v;
  int rc = ref64_loss_grad(s, p, b, loss, NULL, mask);
  p[i] = keep;
  return rc;
}

/* cbrt(eps) * max(1, |x|), rounded to a power of two so that x +- h and x +- 2h are exact. */
static double fd_step(double x) {
  return ldexp(1.0, (int)lround(log2(cbrt(DBL_EPSILON) * fmax(1.0, fabs(x)))));
}

/* The rounding part of the bound for a loss of magnitude F made of `terms` rounded terms, at
 * step h: Richardson's 4/3 D(h) - 1/3 D(2h) carries 1.5 times a loss's error over h. */
static double fd_rounding(double F, double terms, double h) {
  return 1.5 * GC_FD_KAPPA * DBL_EPSILON * sqrt(terms) * F / h;
}

typedef struct {
  const mlp_spec *s;
  const mlp_batch *b;
  double *p;
  uint8_t *m[4];
  size_t mlen;
  double terms; /* rounded terms summed into the loss: batch x (n_out + 1) */
} fd_ctx;

static int fd_open(fd_ctx *c, const mlp_spec *s, const float *params, const mlp_batch *b) {
  memset(c, 0, sizeof *c);
  c->s = s;
  c->b = b;
  c->mlen = (size_t)b->n * s->n_hidden;
  c->terms = (double)b->n * (s->n_out + 1);
  c->p = to_double(params, mlp_param_count(s));
  int ok = c->p != NULL;
  for (int k = 0; k < 4; k++)
    ok &= (c->m[k] = malloc(c->mlen ? c->mlen : 1)) != NULL;
  return ok ? 0 : -1;
}

static void fd_close(fd_ctx *c) {
  free(c->p);
  for (int k = 0; k < 4; k++)
    free(c->m[k]);
}

/* Entry i against gradient g: Richardson's estimate of central differences at h and 2h, and
 * the bound gradcheck.h derives. */
static int fd_entry(fd_ctx *c, size_t i, double g, gc_fd_entry *e) {
  const double h = fd_step(c->p[i]), dx[4] = {h, -h, 2.0 * h, -2.0 * h};
  double f[4], F = 0.0;
  memset(e, 0, sizeof *e);
  e->index = i;
  e->grad = g;
  for (int k = 0; k < 4; k++) {
    if (loss_at(c->s, c->p, i, c->p[i] + dx[k], c->b, c->m[k], &f[k])) return -1;
    F = fmax(F, fabs(f[k]));
  }
  if (c->s->act == MLP_ACT_RELU)
    for (int k = 1; k < 4; k++)
      if (memcmp(c->m[0], c->m[k], c->mlen) != 0) {
        e->status = GC_FD_KINK;
        return 0;
      }
  double d1 = (f[0] - f[1]) / (2.0 * h), d2 = (f[2] - f[3]) / (4.0 * h);
  e->fd = (4.0 * d1 - d2) / 3.0;
  e->bound =
      fabs(d1 - d2) / 3.0 + fd_rounding(F, c->terms, h) + GC_FD_KAPPA * DBL_EPSILON * fabs(g);
  if (!isfinite(e->fd) || !isfinite(e->bound)) e->bound = INFINITY;
  /* a zero bound (zero loss, gradient and differences) resolves nothing */
  int resolved = e->bound > 0.0 && e->bound <= GC_FD_RESOLVE * fmax(fabs(g), fabs(e->fd));
  e->status = resolved ? GC_FD_CHECKED : GC_FD_UNRESOLVED;
  return 0;
}

static void fd_count(const gc_fd_entry *e, gc_fd_result *r) {
  if (e->status == GC_FD_KINK) {
    r->skipped_kinks++;
    return;
  }
  if (e->status == GC_FD_UNRESOLVED) {
    r->skipped_unresolved++;
    return;
  }
  double gap = fabs(e->fd - e->grad), ratio = gap / e->bound;
  double rel = gap / fmax(fabs(e->fd), fabs(e->grad));
  if (isnan(gap)) ratio = rel = INFINITY;
  r->max_ratio = fmax(r->max_ratio, ratio);
  r->max_rel = fmax(r->max_rel, rel);
  r->checked++;
}

static void fd_begin(gc_fd_result *r) {
  memset(r, 0, sizeof *r);
  r->step = fd_step(0.0);
}

static void fd_end(gc_fd_result *r) {
  r->pass = r->checked > 0 && r->max_ratio <= 1.0;
}

int gc_fd_entries(const mlp_spec *s, const float *params, const mlp_batch *b, const double *grads,
                  const size_t *idx, int n, gc_fd_entry *out, gc_fd_result *r) {
  fd_ctx c;
  int rc = -1;
  fd_begin(r);
  if (fd_open(&c, s, params, b)) goto done;
  for (int k = 0; k < n; k++) {
    gc_fd_entry e;
    if (fd_entry(&c, idx[k], grads[idx[k]], &e)) goto done;
    fd_count(&e, r);
    if (out) out[k] = e;
  }
  fd_end(r);
  rc = 0;
done:
  fd_close(&c);
  return rc;
}

int gc_finite_differences(const mlp_spec *s, const float *params, const mlp_batch *b,
                          const double *ref_grads, int per_tensor, uint64_t seed, gc_fd_result *r) {
  size_t n = mlp_param_count(s), off[4];
  mlp_param_offsets(s, off);
  size_t end[4] = {off[1], off[2], off[3], n};
  size_t *seen = malloc((size_t)(per_tensor > 0 ? 50 * per_tensor : 1) * sizeof *seen);
  fd_ctx c = {0};
  double L;
  int rc = -1;
  fd_begin(r);
  if (!seen || fd_open(&c, s, params, b) || ref64_loss_grad(s, c.p, b, &L, NULL, NULL)) goto done;
  rng_t rng;
  rng_seed(&rng, seed, RNG_STREAM_TEST + 1);
  for (int t = 0; t < 4; t++) {
    size_t sz = end[t] - off[t];
    int found = 0, n_seen = 0;
    for (int tries = 0; found < per_tensor && tries < 50 * per_tensor; tries++) {
      size_t i = off[t] + rng_below(&rng, (uint32_t)sz);
      int dup = 0;
      for (int k = 0; k < n_seen; k++)
        dup |= seen[k] == i;
      /* an entry below what the rounding term alone lets the check resolve is not drawn */
      if (dup ||
          fd_rounding(fabs(L), c.terms, fd_step(c.p[i])) > GC_FD_RESOLVE * fabs(ref_grads[i]))
        continue;
      gc_fd_entry e;
      if (fd_entry(&c, i, ref_grads[i], &e)) goto done;
      fd_count(&e, r);
      seen[n_seen++] = i;
      found += e.status == GC_FD_CHECKED;
    }
  }
  fd_end(r);
  rc = 0;
done:
  fd_close(&c);
  free(seen);
  return rc;
}

void gc_failure_text(const gc_result *r, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
#define GC_PUT(...)                                                                                \
  do {                                                                                             \
    int k = snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__);                              \
    at += k > 0 ? (size_t)k : 0;                                                                   \
  } while (0)
  if (r->batch) GC_PUT("on a batch of %d: ", r->batch);
  const char *sep = "";
  if (!(r->loss_rel <= r->loss_tol)) {
    GC_PUT("loss %.2e > %.0e", r->loss_rel, r->loss_tol);
    sep = ", ";
  }
  for (int t = 0; t < 4; t++)
    if (!(r->t[t].rel_l2 <= r->t[t].tol)) {
      GC_PUT("%s%s %.2e > %.0e", sep, gc_tensor_names[t], r->t[t].rel_l2, r->t[t].tol);
      sep = ", ";
    }
  GC_PUT(" (relative L2 error against float64)");
#undef GC_PUT
  if (at >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}
