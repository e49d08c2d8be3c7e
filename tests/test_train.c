/* test_train.c: the workloads end to end: the toy net converges as in the tutorial, the
 * classifier learns the embedded digits identically on every backend, finite differences
 * agree with the float64 reference, and the generator and statistics behave. */
#include <math.h>
#include <stdlib.h>

#include "../harness/backends/registry.h"
#include "../harness/check/gradcheck.h"
#include "../harness/run/runner.h"
#include "../harness/run/trainer.h"
#include "../harness/run/wl_describe.h"
#include "../harness/stats/stats.h"
#include "../harness/sys/timer.h"
#include "t.h"
#include "t_variants.h"

static const mlp_options opts = {.ftz = 1};
static t_variant vars[T_MAX_VARIANTS];
static int n_vars;

static void test_toy_converges(void) {
  workload w;
  wl_config cfg = {0};
  char err[256];
  double naive_loss = NAN;
  T_CHECK(workload_toy(&w, NULL, &cfg, err, sizeof err) == 0, "%s", err);
  for (int vi = 0; vi < n_vars; vi++) {
    const char *name = vars[vi].label;
    trainer t;
    double sec, loss;
    float out[3];
    T_CHECK(trainer_open(&t, vars[vi].be, &vars[vi].opt, &w, 128) == 0, "%s", t.err);
    T_CHECK(trainer_epochs(&t, 5000, &sec, &loss) == 0, "%s", t.err);
    T_CHECK(trainer_predict(&t, w.x_train, 3, out) == 0, "%s", t.err);
    /* the tutorial prints about [0.97, 0.96, 0.05] after 5000 epochs */
    T_CHECK(out[0] > 0.93f && out[1] > 0.93f && out[2] < 0.08f, "%s: [%.3f %.3f %.3f]", name,
            out[0], out[1], out[2]);
    /* a block's loss is its last epoch's, however the backend ran the block (one launch) */
    if (be_props(vars[vi].be)->reference) naive_loss = loss;
    T_CHECK(isnan(naive_loss) || fabs(loss - naive_loss) < 1e-3 * naive_loss,
            "%s: loss of the block's last epoch %.6g, naive %.6g", name, loss, naive_loss);
    trainer_close(&t);
  }
  workload_free(&w);
}

static void test_classifier_learns_identically(void) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 3000, .epochs = 2};
  T_CHECK(dataset_load(NULL, &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  T_CHECK(w.n_train == 2100 && w.n_val == 900, "split %d/%d", w.n_train, w.n_val);
  double first_loss[8] = {0}, val[8] = {0};
  int device[8] = {0};
  int nb = 0;
  for (int vi = 0; vi < n_vars && nb < 8; vi++) {
    const mlp_backend *be = vars[vi].be;
    trainer t;
    double sec, loss0, loss1;
    T_CHECK(trainer_open(&t, be, &vars[vi].opt, &w, 7) == 0, "%s", t.err);
    T_CHECK(trainer_epochs(&t, 1, &sec, &loss0) == 0, "%s", t.err);
    T_CHECK(trainer_epochs(&t, 1, &sec, &loss1) == 0, "%s", t.err);
    T_CHECK(trainer_accuracy(&t, w.x_val, w.y_val, w.n_val, &val[nb]) == 0, "%s", t.err);
    T_CHECK(loss1 < loss0 && loss1 < 0.6, "%s: loss %.3f -> %.3f", vars[vi].label, loss0, loss1);
    T_CHECK(val[nb] > 0.85, "%s: validation accuracy %.3f after 2 epochs", vars[vi].label, val[nb]);
    device[nb] = be_props(be)->device || be_props(be)->emulated; /* atomics: any order */
    first_loss[nb++] = loss1;
    trainer_close(&t);
  }
  /* same weights, same batches: the loss curves must coincide to fp32 rounding (1e-4 on the
   * CPU, 1e-3 for a device backend whose atomics sum in another order) */
  for (int i = 1; i < nb; i++)
    T_CHECK(fabs(first_loss[i] - first_loss[0]) < (device[i] ? 1e-3 : 1e-4) * first_loss[0] &&
                fabs(val[i] - val[0]) <= 2.0 / w.n_val,
            "backend %d: loss %.6f vs %.6f, val %.4f vs %.4f", i, first_loss[i], first_loss[0],
            val[i], val[0]);
  workload_free(&w);
  dataset_free(&d);
}

/* A conformance check over the workload registry: each one builds, describes itself
 * consistently, trains an epoch and has naive's gradients match the float64 reference. A new
 * workload is covered by adding its registry line. */
static void test_every_workload(void) {
  mlpb_dataset d;
  char err[512];
  T_CHECK(dataset_load("synthetic:600", &d, err, sizeof err) == 0, "%s", err);
  const mlp_backend *naive = registry_find("naive");
  for (int i = 0; i < workload_count(); i++) {
    const wl_entry *e = workload_get(i);
    workload w;
    wl_config cfg = {.epochs = 1, .batch = 64};
    T_CHECK(e->build(&w, e->needs_data ? &d : NULL, &cfg, err, sizeof err) == 0, "%s: %s", e->name,
            err);
    T_CHECK(strcmp(w.name, e->name) == 0, "%s builds '%s'", e->name, w.name);
    T_CHECK(w.gflop_per_epoch > 0 && w.samples_per_epoch > 0 && w.default_repeat >= 1 &&
                w.batches_per_epoch >= 1 && workload_epoch_len(&w) >= w.batch - 1 &&
                w.data_label[0] && w.sampling_label,
            "%s describes itself inconsistently", e->name);
    T_CHECK(w.has_accuracy ? w.y_train != NULL : w.t_train != NULL, "%s: no targets", e->name);
    /* the identity table reads every fact from the live workload, and the report's workload
     * carries the same facts back (no field left out or read from a neighbour) */
    wl_identity id, back;
    report_workload rw = {0};
    run_plan p = {0};
    wl_describe_identity(&w, &id);
    wl_describe(&p, &w, &rw);
    wl_identity_of(&rw, &back);
    T_CHECK(strcmp(id.name, w.name) == 0 && id.n_in == w.spec.n_in &&
                id.n_hidden == w.spec.n_hidden && id.n_out == w.spec.n_out &&
                id.data_hash == w.data_hash && id.n_train == w.n_train && id.batch == w.batch &&
                strcmp(id.sampling, w.sampling_label) == 0 && id.zero_grad == w.zero_grad &&
                id.full_batch == (w.order == WL_ORDER_FULL) && id.has_accuracy == w.has_accuracy,
            "%s: the identity does not say what the workload is", e->name);
    T_CHECK(memcmp(&id, &back, sizeof id) == 0 && rw.batch == w.batch &&
                rw.spec.n_hidden == w.spec.n_hidden && strcmp(rw.name, w.name) == 0,
            "%s: the report's workload lost an identity fact", e->name);
    trainer t;
    double sec, loss;
    T_CHECK(trainer_open(&t, naive, &opts, &w, 3) == 0, "%s: %s", e->name, t.err);
    T_CHECK(trainer_epochs(&t, 1, &sec, &loss) == 0 && isfinite(loss), "%s: %s", e->name, t.err);
    trainer_close(&t);
    gc_batch gb;
    double ref_loss, *ref = NULL;
    float *params = malloc(mlp_param_count(&w.spec) * sizeof(float));
    gc_result r = {0};
    T_CHECK(params && gc_batch_make(&w, 3, &gb) == 0, "%s: out of memory", e->name);
    workload_init_params(&w, 3, params);
    T_CHECK(gc_reference(&w, params, &gb.b, &ref_loss, &ref) == 0, "%s: reference", e->name);
    gc_tol fp32 = gc_tol_fp32();
    T_CHECK(gc_check_backend(naive, &opts, &w, &gb.b, params, ref_loss, ref, &fp32, &r, err,
                             sizeof err) == 0 &&
                r.pass,
            "%s: naive gradients %.2e (%s)", e->name, r.worst, err);
    gc_batch_free(&gb);
    free(ref);
    free(params);
    workload_free(&w);
  }
  dataset_free(&d);
}

static void test_tutorial_sampling(void) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 1000, .sampling = WL_SAMPLE_TUTORIAL, .no_zero_grad = 1};
  T_CHECK(dataset_load("synthetic:1000", &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  T_CHECK(w.batches_per_epoch == 1000 / 128, "int(N/128) batches, got %d", w.batches_per_epoch);
  T_CHECK(!w.zero_grad, "no-zero-grad ignored");
  workload_free(&w);
  dataset_free(&d);
}

static void test_finite_differences(void) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 400, .hidden = 37};
  T_CHECK(dataset_load(NULL, &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  gc_batch gb;
  T_CHECK(gc_batch_make(&w, 3, &gb) == 0, "batch");
  float *p = malloc(mlp_param_count(&w.spec) * sizeof(float));
  workload_init_params(&w, 3, p);
  double loss, *g = NULL;
  T_CHECK(gc_reference(&w, p, &gb.b, &loss, &g) == 0, "reference");
  gc_fd_result fd;
  T_CHECK(gc_finite_differences(&w.spec, p, &gb.b, g, 10, 3, &fd) == 0, "fd");
  T_CHECK(fd.pass && fd.checked >= 30, "checked %d, max rel %.2e", fd.checked, fd.max_rel);
  /* a wrong gradient must be caught */
  for (size_t i = 0; i < mlp_param_count(&w.spec); i++)
    g[i] *= 1.001;
  T_CHECK(gc_finite_differences(&w.spec, p, &gb.b, g, 10, 3, &fd) == 0 && !fd.pass,
          "a 0.1%% gradient error went unnoticed (max rel %.2e)", fd.max_rel);
  free(g);
  free(p);
  gc_batch_free(&gb);
  workload_free(&w);
  dataset_free(&d);
}

static void test_rng_and_init_deterministic(void) {
  workload w;
  wl_config cfg = {0};
  char err[128];
  workload_toy(&w, NULL, &cfg, err, sizeof err);
  float a[19], b[19], c[19];
  workload_init_params(&w, 1, a);
  workload_init_params(&w, 1, b);
  workload_init_params(&w, 2, c);
  T_CHECK(memcmp(a, b, sizeof a) == 0, "same seed, different weights");
  T_CHECK(memcmp(a, c, sizeof a) != 0, "different seeds, same weights");
  for (int i = 0; i < 19; i++)
    T_CHECK(a[i] >= 0 && a[i] < 1, "toy init %f outside [0,1)", a[i]);
  rng_t r;
  rng_seed(&r, 42, 1);
  uint64_t first = rng_u64(&r);
  /* pinned: weights must not change across machines or releases */
  T_CHECK(first == 0x0030425e2a3dc334ULL, "rng stream changed: %016llx", (unsigned long long)first);
  int hist[7] = {0};
  for (int i = 0; i < 70000; i++)
    hist[rng_below(&r, 7)]++;
  for (int k = 0; k < 7; k++)
    T_CHECK(abs(hist[k] - 10000) < 500, "bucket %d: %d", k, hist[k]);
  workload_free(&w);
}

static void test_stats(void) {
  double x[] = {5, 1, 4, 2, 3};
  stats_summary s = stats_summarize(x, 5);
  T_CHECK(s.median == 3 && s.min == 1 && s.max == 5 && s.q1 == 2 && s.q3 == 4, "%g %g %g %g %g",
          s.median, s.min, s.max, s.q1, s.q3);
  double y[] = {1, 2, 3, 4};
  s = stats_summarize(y, 4);
  T_CHECK(s.median == 2.5 && fabs(s.q1 - 1.75) < 1e-12 && fabs(s.q3 - 3.25) < 1e-12, "%g %g %g",
          s.median, s.q1, s.q3);
}

/* One clock: a backend whose device time is tiny but which spends known host time inside
 * its calls (as a launch-bound GPU backend does) is sampled at that host time; its own
 * clock lands beside it in last_device, never in its place. */
static void busy_for(double s) {
  double t0 = timer_now();
  while (timer_now() - t0 < s) {
  }
}
static int mock_ctx;
static int mock_available(const mlp_backend *self, char *why, size_t len) {
  (void)self, (void)why, (void)len;
  return 1;
}
static void *mock_create(const mlp_backend *self, const mlp_spec *s, const mlp_options *o, char *e,
                         size_t l) {
  (void)self, (void)s, (void)o, (void)e, (void)l;
  return &mock_ctx;
}
static void mock_destroy(void *c) {
  (void)c;
}
static const char *mock_error(void *c) {
  (void)c;
  return "mock";
}
static int mock_params(void *c, const float *f) {
  (void)c, (void)f;
  return 0;
}
static int mock_get(void *c, float *f) {
  (void)c, (void)f;
  return 0;
}
static int mock_ctx_only(void *c) {
  (void)c;
  return 0;
}
static int mock_set_dataset(void *c, const float *x, const int32_t *l, const float *t, int n) {
  (void)c, (void)x, (void)l, (void)t, (void)n;
  return 0;
}
static int mock_train_steps(void *c, const int32_t *idx, int n, int batch, int zg,
                            mlp_steps_out *out) {
  (void)c, (void)idx, (void)n, (void)batch, (void)zg;
  busy_for(0.03); /* host work between the device's steps */
  *out = (mlp_steps_out){.mean_loss = 1.0f, .last_loss = 1.0f, .device_seconds = 1e-4};
  return 0;
}
static const mlp_backend mock = {.name = "mock",
                                 .available = mock_available,
                                 .create = mock_create,
                                 .destroy = mock_destroy,
                                 .error = mock_error,
                                 .set_params = mock_params,
                                 .get_params = mock_get,
                                 .get_grads = mock_get,
                                 .zero_grads = mock_ctx_only,
                                 .step = mock_ctx_only,
                                 .set_dataset = mock_set_dataset,
                                 .train_steps = mock_train_steps};

static void test_one_clock(void) {
  mlpb_dataset d;
  workload w;
  char err[512];
  wl_config cfg = {.limit = 600, .epochs = 2};
  T_CHECK(dataset_load("synthetic:600", &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(workload_mnist(&w, &d, &cfg, err, sizeof err) == 0, "%s", err);
  trainer t;
  double sec = 0, loss = 0;
  T_CHECK(trainer_open(&t, &mock, &opts, &w, 1) == 0, "%s", t.err);
  T_CHECK(t.resident, "the mock keeps the data resident");
  T_CHECK(trainer_epochs(&t, 1, &sec, &loss) == 0, "%s", t.err);
  T_CHECK(sec >= 0.03, "the sample (%.4f s) must hold the 30 ms of host time", sec);
  T_CHECK(fabs(t.last_device - 1e-4) < 1e-12, "device time %.3g beside it, not in it",
          t.last_device);
  trainer_close(&t);
  workload_free(&w);
  dataset_free(&d);
}

/* One context per backend per run: bench's check, its repeats and its floor share it. */
static int counted_creates;
static void *counting_create(const mlp_backend *self, const mlp_spec *s, const mlp_options *o,
                             char *e, size_t l) {
  (void)self;
  counted_creates++;
  const mlp_backend *naive = registry_find("naive");
  return naive->create(naive, s, o, e, l);
}

static void test_one_context_per_run(void) {
  mlp_backend counting = *registry_find("naive");
  counting.name = "counting";
  counting.create = counting_create;
  const wl_entry *toy = NULL;
  for (int i = 0; i < workload_count(); i++)
    if (strcmp(workload_get(i)->name, "toy") == 0) toy = workload_get(i);
  run_plan p;
  memset(&p, 0, sizeof p);
  plan_add_backend(&p, &counting);
  p.workloads[p.n_workloads++] = toy;
  p.wl.epochs = 40;
  p.opts.ftz = 1;
  p.seed = 3;
  p.warmup = 1;
  p.repeat = 3;
  p.block = 10;
  p.fd_samples = 2;
  p.quiet = 1;
  p.processes = 1;
  report_context ctx;
  memset(&ctx, 0, sizeof ctx);
  report rep;
  char broken[256];
  int rc = runner_bench(&p, &ctx, &rep, NULL, broken, sizeof broken);
  T_CHECK(rc == EXIT_OK && !broken[0] && rep.n_wl == 1 && rep.wl[0].rows[0].ran, "bench ran: %d",
          rc);
  T_CHECK(rep.wl[0].n_rows == 1 && rep.wl[0].rows[0].n_samples == 3 * 3,
          "3 runs of 3 timed blocks each: %d samples", rep.wl[0].rows[0].n_samples);
  T_CHECK(counted_creates == 1, "%d contexts for one backend's check, 3 runs and floor",
          counted_creates);
  report_free(&rep);
}

int main(void) {
  n_vars = t_variants(&opts, vars);
  T_RUN(test_toy_converges);
  T_RUN(test_classifier_learns_identically);
  T_RUN(test_every_workload);
  T_RUN(test_tutorial_sampling);
  T_RUN(test_finite_differences);
  T_RUN(test_rng_and_init_deterministic);
  T_RUN(test_stats);
  T_RUN(test_one_clock);
  T_RUN(test_one_context_per_run);
  T_EXIT();
}
