/* test_fd.c: the float64 reference's finite-difference check (gradcheck.h) over many sizes:
 * --limit 30..3000, batches of 1 to the whole training split, hidden widths 1 to 500, both
 * losses (the classifier's softmax cross-entropy after ReLU, the toy net's squared error after
 * sigmoids). On each, the reference passes, and a reference gradient entry made wrong by 2%
 * fails. Includes the case that failed the fixed h = 1e-4, relative 1e-6 check
 * (gradcheck --workload mnist --limit 300: 3.9e-6 on b2[3]). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "../harness/check/gradcheck.h"
#include "t.h"

static mlpb_dataset digits;
static int n_cases;

/* The largest |g| of tensor t: the entry the planted error goes into. */
static size_t largest(const workload *w, const double *g, int t) {
  size_t n = mlp_param_count(&w->spec), off[4];
  mlp_param_offsets(&w->spec, off);
  size_t end = t < 3 ? off[t + 1] : n, best = off[t];
  for (size_t i = off[t]; i < end; i++)
    best = fabs(g[i]) > fabs(g[best]) ? i : best;
  return best;
}

/* One size: the sampled check passes; the largest entry of each tensor is checked and within
 * its bound; each of them made wrong by 2% alone fails. */
static void one_case(const char *wl, const wl_config *cfg_in, int per_tensor, uint64_t seed) {
  workload w;
  wl_config cfg = *cfg_in;
  char err[512];
  int whole = cfg.batch < 0, rc;
  if (whole) cfg.batch = 1; /* to learn n_train */
  for (;;) {
    rc = wl[0] == 't' ? workload_toy(&w, NULL, &cfg, err, sizeof err)
                      : workload_mnist(&w, &digits, &cfg, err, sizeof err);
    if (rc || !whole || cfg.batch == w.n_train) break;
    cfg.batch = w.n_train; /* the whole training split as one batch */
    workload_free(&w);
  }
  T_CHECK(rc == 0, "%s", err);
  if (rc) return;
  gc_batch gb;
  size_t n = mlp_param_count(&w.spec);
  float *p = malloc(n * sizeof *p);
  double loss, *g = NULL;
  T_CHECK(p && gc_batch_make(&w, seed, &gb) == 0, "out of memory");
  workload_init_params(&w, seed, p);
  T_CHECK(gc_reference(&w, p, &gb.b, &loss, &g) == 0, "reference");
  char what[160];
  snprintf(what, sizeof what, "%s limit %d batch %d hidden %d seed %llu", wl, cfg.limit, gb.b.n,
           w.spec.n_hidden, (unsigned long long)seed);
  gc_fd_result r;
  T_CHECK(gc_finite_differences(&w.spec, p, &gb.b, g, per_tensor, seed, &r) == 0, "oom");
  T_CHECK(r.pass && r.checked >= 1, "%s: %d checked, worst %.3g of its bound (rel %.2e)", what,
          r.checked, r.max_ratio, r.max_rel);
  size_t idx[4];
  gc_fd_entry e[4];
  for (int t = 0; t < 4; t++)
    idx[t] = largest(&w, g, t);
  T_CHECK(gc_fd_entries(&w.spec, p, &gb.b, g, idx, 4, e, &r) == 0, "oom");
  for (int t = 0; t < 4; t++) {
    if (e[t].status == GC_FD_KINK) continue; /* a ReLU flips within 2h: nothing to check */
    if (e[t].grad == 0.0) {
      /* every hidden unit dead on this batch: the loss does not depend on the tensor at all */
      T_CHECK(e[t].fd == 0.0, "%s: tensor %d: gradient 0, differences %.3g", what, t, e[t].fd);
      continue;
    }
    T_CHECK(e[t].status == GC_FD_CHECKED && fabs(e[t].fd - e[t].grad) <= e[t].bound,
            "%s: tensor %d entry %zu: status %d, g %.9g fd %.9g bound %.2g", what, t, idx[t],
            e[t].status, e[t].grad, e[t].fd, e[t].bound);
    double keep = g[idx[t]];
    g[idx[t]] *= 1.02;
    gc_fd_entry bad;
    T_CHECK(gc_fd_entries(&w.spec, p, &gb.b, g, &idx[t], 1, &bad, &r) == 0, "oom");
    T_CHECK(!r.pass && r.checked == 1 && r.max_ratio > 1.0,
            "%s: a 2%% error in tensor %d's entry %zu went unnoticed (%.3g of its bound)", what, t,
            idx[t], r.max_ratio);
    g[idx[t]] = keep;
  }
  n_cases++;
  free(g);
  free(p);
  gc_batch_free(&gb);
  workload_free(&w);
}

static void test_issue_case(void) {
  /* gradcheck --workload mnist --limit 300, its seed and its 8 entries per tensor */
  wl_config cfg = {.limit = 300};
  one_case("mnist", &cfg, 8, 128);
}

static void test_classifier_sizes(void) {
  const int limits[] = {30, 100, 300, 1000, 3000}, hidden[] = {1, 5, 37};
  const int batch[] = {1, 7, 0, -1}; /* 0: the default 128 (where the split holds it),
                                        -1: the whole split */
  for (int a = 0; a < 5; a++)
    for (int c = 0; c < 3; c++)
      for (int k = 0; k < 4; k++) {
        wl_config cfg = {.limit = limits[a], .hidden = hidden[c], .batch = batch[k]};
        if (batch[k] < 0 && limits[a] > 1000) continue; /* 2100 samples cost, prove no more */
        if (batch[k] == 0 && limits[a] < 200) continue; /* 128 > the split: see -1 */
        one_case("mnist", &cfg, 2, 100 + (uint64_t)(a * 12 + c * 4 + k));
      }
  /* the real width, on a small batch */
  wl_config wide = {.limit = 1000, .batch = 16};
  one_case("mnist", &wide, 2, 7);
}

static void test_toy_sizes(void) {
  for (int h = 1; h <= 8; h++)
    for (uint64_t seed = 1; seed <= 3; seed++) {
      wl_config cfg = {.hidden = h};
      one_case("toy", &cfg, 8, seed);
    }
}

int main(void) {
  char err[256];
  T_CHECK(dataset_load(NULL, &digits, err, sizeof err) == 0, "%s", err);
  T_RUN(test_issue_case);
  T_RUN(test_classifier_sizes);
  T_RUN(test_toy_sizes);
  printf("%d sizes checked\n", n_cases);
  dataset_free(&digits);
  T_EXIT();
}
