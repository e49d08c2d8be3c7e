#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workloads/io/outfile.h"
#include "../output/results.h"
#include "../stats/stats.h"
#include "../sys/checked.h"
#include "../sys/proc_spawn.h"
#include "../sys/tmpdir.h"
#include "trainer.h"
#include "wl_describe.h"

#define PEER_DIR_MAX 4096
#define PEER_PATH_MAX (PEER_DIR_MAX + 64) /* a file in it: checked by path_join, never cut */
#define PEER_MAX_ORDER ((size_t)1 << 31)  /* bytes of batch indices a peer is sent, at most */

#ifndef MLPB_PEER_VENV_PYTHON /* the build tree's venv (make peers); "" for none */
#define MLPB_PEER_VENV_PYTHON ""
#endif
/* A peer whose CPU time per epoch exceeds its wall time times its threads by more than this
 * used threads it was not given (a runtime's spinning helper thread counts too). */
#define PEER_OVER_THREADS_MARGIN 0.25

#ifndef MLPB_PEER_SCRIPT
#define MLPB_PEER_SCRIPT "workloads/reference/peer.py"
#endif

/* What the harness asks of a peer, instead of its name: the modules its python must import,
 * where they come from, and whether it runs on a GPU. Indexed as peers_known. */
typedef struct {
  const char *imports; /* a python statement that must succeed */
  const char *install; /* where to get them, for the skip message */
  int device;          /* runs on a GPU: its host threads wait, and are not judged */
} peer_needs;

#define TORCH_PY "import numpy, torch", "python3-torch (apt-get), or make peers TORCH=1"
#define JAX_PY "import numpy, jax, optax", "make peers"
static const peer_needs needs[] = {
    {"import numpy", "python3-numpy (apt-get), or make peers", 0},
    {TORCH_PY, 0}, /* torch */
    {TORCH_PY, 0}, /* torch-fused */
    {TORCH_PY, 0}, /* torch-compile */
    {TORCH_PY, 1}, /* torch-cuda */
    {TORCH_PY, 1}, /* torch-cuda-graph */
    {JAX_PY, 0},   /* jax */
    {JAX_PY, 0},   /* jax-scan */
    {JAX_PY, 1},   /* jax-cuda */
};
_Static_assert(sizeof needs / sizeof *needs == PEERS_KNOWN_N, "one peer_needs per peer");

static const peer_needs *peer_needs_of(const char *peer) {
  for (int i = 0; peers_known[i]; i++)
    if (strcmp(peer, peers_known[i]) == 0) return &needs[i];
  return NULL;
}

static int write_raw(const char *dir, const char *name, const void *p, size_t bytes) {
  char path[PEER_PATH_MAX], err[64];
  if (path_join(path, sizeof path, dir, name, err, sizeof err)) return -1;
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = bytes ? fwrite(p, 1, bytes, f) : 0;
  return (fclose(f) != 0 || n != bytes) ? -1 : 0;
}

/* A python that imports what the peer needs, the first of: $MLPBENCH_PYTHON, the build tree's
 * peers-venv (make peers), python3 in PATH, /usr/bin/python3 (Debian's python3-numpy and
 * python3-torch). Into out; 0, or -1 when none does. */
static int find_python(const peer_needs *nd, char *out, size_t len) {
  const char *env = getenv("MLPBENCH_PYTHON");
  const char *cands[] = {env && *env ? env : NULL, MLPB_PEER_VENV_PYTHON, "python3",
                         "/usr/bin/python3"};
  for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
    if (!cands[i] || !*cands[i]) continue;
    if (strchr(cands[i], '/') && access(cands[i], X_OK) != 0) continue;
    const char *argv[] = {cands[i], "-c", nd->imports, NULL};
    spawn_job j = {.argv = argv, .timeout_s = 60}; /* an import that hangs is no python */
    if (spawn_job_run(&j) == 0) {
      snprintf(out, len, "%s", cands[i]);
      return 0;
    }
  }
  return -1;
}

/* The threads every row of the run gets: --threads, else the CPUs this process may run on
 * (what OpenBLAS and OpenMP take by default). */
static int run_threads(const run_plan *p) {
  if (p->opts.threads > 0) return p->opts.threads;
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  return n > 0 ? n : 1;
}

/* The peer's environment: ours, with the run's threads and FTZ set over whatever we had
 * (one entry per variable; a peer's framework reads them when it loads). envp points into
 * set: free(envp) only. -1: no memory. */
#define PEER_ENV_SET 5
typedef struct {
  char **envp;
  char set[PEER_ENV_SET][48];
} peer_env;

static int peer_env_make(peer_env *e, const run_plan *p) {
  extern char **environ;
  int threads = run_threads(p);
  snprintf(e->set[0], sizeof e->set[0], "MLPBENCH_PEER_THREADS=%d", threads);
  snprintf(e->set[1], sizeof e->set[1], "MLPBENCH_PEER_FTZ=%d", p->opts.ftz ? 1 : 0);
  snprintf(e->set[2], sizeof e->set[2], "OMP_NUM_THREADS=%d", threads);
  snprintf(e->set[3], sizeof e->set[3], "OPENBLAS_NUM_THREADS=%d", threads);
  snprintf(e->set[4], sizeof e->set[4], "MKL_NUM_THREADS=%d", threads);
  size_t n = 0;
  while (environ[n])
    n++;
  e->envp = calloc(n + PEER_ENV_SET + 1, sizeof *e->envp);
  if (!e->envp) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int overridden = 0;
    for (int j = 0; j < PEER_ENV_SET && !overridden; j++) {
      size_t klen = (size_t)(strchr(e->set[j], '=') - e->set[j]) + 1;
      overridden = strncmp(environ[i], e->set[j], klen) == 0;
    }
    if (!overridden) e->envp[k++] = environ[i];
  }
  for (int j = 0; j < PEER_ENV_SET; j++)
    e->envp[k++] = e->set[j];
  return 0;
}

static int export_run(const char *dir, const run_plan *p, const workload *w, const float *params,
                      const mlp_batch *gc) {
  const mlp_spec *s = &w->spec;
  int targets = !w->has_accuracy, n_idx = workload_epoch_len(w);
  int block = plan_block(p, w), repeat = plan_repeat(p, w);
  /* What identifies the workload travels as its wl_identity, once: the peer reads the model's
   * shape, the batch and the sampling from it and echoes it back, so a peer that ran some other
   * workload is caught (read_exchange) rather than timed. */
  wl_identity id;
  wl_describe_identity(w, &id);
  json_t *ident = json_object();
  json_t *run =
      json_pack("{s:s,s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "schema",
                "mlpbench-run-2", "activation", s->act == MLP_ACT_RELU ? "relu" : "sigmoid", "loss",
                s->loss == MLP_LOSS_SOFTMAX_CE ? "softmax_cross_entropy" : "sigmoid_squared_error",
                "optimizer", s->opt == MLP_OPT_ADAM ? "adam" : "sgd", "lr", (double)s->lr, "beta1",
                (double)s->beta1, "beta2", (double)s->beta2, "eps", (double)s->eps, "epochs",
                w->epochs, "warmup", p->warmup, "block", block, "repeat", repeat, "n_val", w->n_val,
                "n_test", w->n_test, "n_idx", n_idx, "n_gc", gc->n);
  char path[PEER_PATH_MAX], err[64];
  int rc = (run && ident && path_join(path, sizeof path, dir, "run.json", err, sizeof err) == 0 &&
            wl_identity_to_json(&id, ident) == 0 && json_object_set(run, "identity", ident) == 0)
               ? json_dump_file(run, path, 0)
               : -1;
  json_decref(ident);
  json_decref(run);
  size_t fl = sizeof(float), il = sizeof(int32_t), I = (size_t)s->n_in, O = (size_t)s->n_out;
  rc |= write_raw(dir, "params.f32", params, mlp_param_count(s) * fl);
  rc |= write_raw(dir, "gc_x.f32", gc->x, gc->n * I * fl);
  rc |= write_raw(dir, "x_train.f32", w->x_train, w->n_train * I * fl);
  if (targets) {
    rc |= write_raw(dir, "gc_t.f32", gc->y, gc->n * O * fl);
    return rc | write_raw(dir, "t_train.f32", w->t_train, w->n_train * O * fl);
  }
  rc |= write_raw(dir, "gc_y.i32", gc->labels, gc->n * il);
  rc |= write_raw(dir, "y_train.i32", w->y_train, w->n_train * il);
  rc |= write_raw(dir, "x_val.f32", w->x_val, w->n_val * I * fl);
  rc |= write_raw(dir, "y_val.i32", w->y_val, w->n_val * il);
  if (w->n_test) {
    rc |= write_raw(dir, "x_test.f32", w->x_test, w->n_test * I * fl);
    rc |= write_raw(dir, "y_test.i32", w->y_test, w->n_test * il);
  }
  /* every epoch's indices, exactly as the trainer draws them for each backend */
  batch_order bo;
  size_t order_bytes;
  if (checked_mul3((size_t)w->epochs, (size_t)n_idx, il, &order_bytes) ||
      order_bytes > PEER_MAX_ORDER)
    return -1; /* the caller names it: the run too large to export */
  int32_t *all = malloc(order_bytes);
  if (!all || batch_order_init(&bo, w, p->seed)) {
    free(all);
    return -1;
  }
  for (int e = 0; e < w->epochs; e++)
    batch_order_next(&bo, all + (size_t)e * n_idx);
  batch_order_free(&bo);
  rc |= write_raw(dir, "order.i32", all, order_bytes);
  free(all);
  return rc;
}

static double jnum_or_nan(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A JSON array of numbers (null: NaN) into a new array; its length, or -1. */
static int jarray_read(const json_t *a, double **out) {
  size_t n = json_is_array(a) ? json_array_size(a) : 0;
  *out = calloc(n ? n : 1, sizeof **out);
  if (!*out) return -1;
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(a, i);
    (*out)[i] = json_is_number(v) ? json_number_value(v) : NAN;
  }
  return (int)n;
}

static void jstr_into(const json_t *o, const char *k, char *dst, size_t len) {
  const char *v = json_string_value(json_object_get(o, k));
  snprintf(dst, len, "%s", v ? v : "");
}

/* The peer's "setup" (how it ran: framework and version, compile mode, threads, subnormals,
 * compile seconds) into the row. Its strings are the peer's: they reach a table or a plot
 * only through the reporters' escaping. */
static void read_setup(const json_t *su, report_row *row) {
  jstr_into(su, "framework", row->framework, sizeof row->framework);
  jstr_into(su, "compile_mode", row->compile_mode, sizeof row->compile_mode);
  jstr_into(su, "threads_set_by", row->threads_set_by, sizeof row->threads_set_by);
  jstr_into(su, "subnormals", row->subnormals, sizeof row->subnormals);
  double t = jnum_or_nan(su, "threads"), c = jnum_or_nan(su, "compile_seconds");
  row->threads = isfinite(t) && t >= 1 && t <= 4096 ? (int)t : 0;
  row->compile_seconds = isfinite(c) && c >= 0 ? c : NAN;
}

/* peer.json ("mlpbench-peer-2") into a report row (its arrays owned by the row). */
static int read_exchange(const char *path, const wl_identity *sent, report_row *row,
                         double *gc_loss, char *err, size_t len) {
  /* the path is ours (a mkdtemp folder); the file's content is the peer's */
  /* through the one careful reader (a regular file, a size cap): the peer wrote it */
  char why_load[200];
  json_t *j = results_load_json(path, why_load, sizeof why_load);
  const char *schema = json_string_value(json_object_get(j, "schema"));
  if (!j || !schema || strcmp(schema, "mlpbench-peer-2") != 0) {
    snprintf(err, len, "%s: not a peer exchange file (%s)", path, j ? "schema" : why_load);
    json_decref(j);
    return -1;
  }
  wl_identity echo;
  char why[160];
  json_t *ej = json_object_get(j, "identity");
  wl_identity_from_json(ej, &echo);
  if (!json_is_object(ej) ||
      wl_identity_diff(sent, "run.json", &echo, "peer.json", why, sizeof why)) {
    snprintf(err, len, "%s: the peer ran another workload: %s", path,
             json_is_object(ej) ? why : "no \"identity\" echoed");
    json_decref(j);
    return -1;
  }
  const char *details = json_string_value(json_object_get(j, "details"));
  snprintf(row->details, sizeof row->details, "%s", details ? details : "");
  read_setup(json_object_get(j, "setup"), row);
  *gc_loss = jnum_or_nan(j, "gradcheck_loss");
  json_t *cv = json_object_get(j, "curves");
  int ns = jarray_read(json_object_get(j, "epoch_seconds"), &row->samples);
  int nc = jarray_read(json_object_get(j, "epoch_cpu_seconds"), &row->cpu_samples);
  json_t *dv = json_object_get(j, "epoch_device_seconds"); /* GPU peers only */
  int nd = dv ? jarray_read(dv, &row->dev_samples) : 0;
  int nl = jarray_read(json_object_get(cv, "loss"), &row->epoch_loss);
  int na = jarray_read(json_object_get(cv, "val_acc"), &row->epoch_val_acc);
  row->val_acc = jnum_or_nan(j, "val_acc");
  row->test_acc = jnum_or_nan(j, "test_acc");
  json_decref(j);
  if (ns < 0 || nc < 0 || nl < 0 || na < 0 || nd < 0 || nc != ns || na != nl || (nd && nd != ns)) {
    snprintf(err, len, "%s: arrays missing, of different lengths, or out of memory", path);
    return -1;
  }
  row->n_samples = ns;
  row->n_dev = nd;
  row->n_epochs = nl;
  return 0;
}

static void free_row_arrays(report_row *r) {
  free(r->samples);
  free(r->cpu_samples);
  free(r->dev_samples);
  free(r->epoch_loss);
  free(r->epoch_val_acc);
  r->samples = r->cpu_samples = r->dev_samples = r->epoch_loss = r->epoch_val_acc = NULL;
  r->n_dev = 0;
}

/* Exports, runs the peer, and reads back its row and gradients (the row's arrays owned by the
 * caller). */
static int run_peer(const char *peer, const run_plan *p, const wl_session *s, int grads_only,
                    char *dir, report_row *row, float *grads, double *gc_loss) {
  const workload *w = &s->w;
  const peer_needs *nd = peer_needs_of(peer);
  char py[PEER_DIR_MAX];
  if (!nd || find_python(nd, py, sizeof py)) {
    fprintf(stderr, "mlpbench: peer %s skipped: no python that can \"%s\" (%s)\n", peer,
            nd ? nd->imports : "?", nd ? nd->install : "unknown peer");
    return 1;
  }
  char terr[256];
  if (tmpdir_make(dir, PEER_DIR_MAX, "peer", terr, sizeof terr)) {
    snprintf(row->error, sizeof row->error, "peer %s: %s", peer, terr);
    fprintf(stderr, "mlpbench: %s\n", row->error);
    return -1;
  }
  if (export_run(dir, p, w, s->params, &s->gb.b)) {
    snprintf(row->error, sizeof row->error,
             "peer %s: cannot export the run to %s (disk full, or the run too large)", peer, dir);
    fprintf(stderr, "mlpbench: %s\n", row->error);
    return -1;
  }
  const char *script = getenv("MLPBENCH_PEER_SCRIPT");
  char path[PEER_PATH_MAX], err[PEER_PATH_MAX + 256], tag[48];
  const char *argv[] = {py,
                        script && *script ? script : MLPB_PEER_SCRIPT,
                        "--peer",
                        peer,
                        "--run",
                        dir,
                        grads_only ? "--grads-only" : NULL,
                        NULL};
  if (!p->quiet) fprintf(stderr, "  running peer %s ...\n", peer);
  snprintf(tag, sizeof tag, "peer %s", peer);
  /* the peer gets this process's environment (and with it the threads' wait policy mlpbench
   * set before it re-ran, or the user's), plus its thread settings (peer_env_make) */
  peer_env env;
  if (peer_env_make(&env, p)) {
    snprintf(row->error, sizeof row->error, "peer %s: out of memory", peer);
    fprintf(stderr, "mlpbench: %s\n", row->error);
    return -1;
  }
  spawn_job job = {
      .argv = argv, .envp = env.envp, .tag = tag, .show = 20, .timeout_s = p->peer_timeout_s};
  int code = spawn_job_run(&job);
  free(env.envp);
  if (code == 77) /* the peer said why on its stderr (shown above, tagged) */
    return 1;
  if (code == SPAWN_TIMED_OUT)
    snprintf(row->error, sizeof row->error, "peer %s timed out after %d s (killed; --peer-timeout)",
             peer, p->peer_timeout_s);
  else if (code != 0)
    snprintf(row->error, sizeof row->error, "peer %s failed (exit %d)", peer, code);
  if (code != 0) {
    fprintf(stderr, "mlpbench: %s\n", row->error);
    return -1;
  }
  wl_identity sent;
  wl_describe_identity(w, &sent);
  if (path_join(path, sizeof path, dir, "peer.json", err, sizeof err) ||
      read_exchange(path, &sent, row, gc_loss, err, sizeof err)) {
    snprintf(row->error, sizeof row->error, "peer %s: %.400s", peer, err);
    fprintf(stderr, "mlpbench: %s\n", row->error);
    free_row_arrays(row);
    return -1;
  }
  FILE *f = NULL;
  size_t n = mlp_param_count(&w->spec);
  if (path_join(path, sizeof path, dir, "grads.f32", err, sizeof err) || !(f = fopen(path, "rb")) ||
      fread(grads, sizeof(float), n, f) != n) {
    snprintf(row->error, sizeof row->error, "peer %s: unreadable gradients in %s", peer, dir);
    fprintf(stderr, "mlpbench: %s\n", row->error);
    if (f) fclose(f);
    free_row_arrays(row);
    return -1;
  }
  fclose(f);
  return 0;
}

static void remove_dir(const char *dir) {
  if (tmpdir_remove(dir) != 0) fprintf(stderr, "mlpbench: could not remove %s\n", dir);
}

int peers_gradcheck(const char *peer, const run_plan *p, const wl_session *s, gc_result *r) {
  char dir[PEER_DIR_MAX] = "";
  report_row row;
  double loss = 0;
  memset(&row, 0, sizeof row);
  float *g = malloc(mlp_param_count(&s->w.spec) * sizeof(float));
  if (!g) return -1;
  int rc = run_peer(peer, p, s, 1, dir, &row, g, &loss);
  if (rc == 0) {
    gc_tol fp32 = gc_tol_fp32();
    gc_judge(&s->w.spec, g, loss, s->ref_loss, s->ref, &fp32, r);
    free_row_arrays(&row);
  }
  if (dir[0]) remove_dir(dir);
  free(g);
  return rc;
}

/* A CPU peer held to its threads: its median CPU seconds per epoch over its median wall
 * seconds. More than its threads (plus a margin) means it ran threads it was not given: the
 * row is flagged and says so. A GPU peer's host thread waits on the device: not judged. */
static void flag_threads(const char *peer, const peer_needs *nd, report_row *r) {
  if (!nd || nd->device || r->threads < 1 || !r->n_samples) return;
  stats_summary c = stats_summarize(r->cpu_samples, r->n_samples);
  r->cpu_per_wall = r->st.median > 0 ? c.median / r->st.median : NAN;
  if (!(r->cpu_per_wall > r->threads + PEER_OVER_THREADS_MARGIN)) return;
  r->over_threads = 1;
  fprintf(stderr, "mlpbench: peer %s used %.2f CPUs per epoch, given %d threads\n", peer,
          r->cpu_per_wall, r->threads);
  size_t n = strlen(r->details); /* wherever the row's details are shown */
  snprintf(r->details + n, sizeof r->details - n, "; OVER ITS THREADS: %.2f CPUs per epoch",
           r->cpu_per_wall);
}

int peers_bench(const char *peer, const run_plan *p, const wl_session *s, report_workload *rw) {
  char dir[PEER_DIR_MAX] = "";
  double loss = 0;
  float *g = malloc(mlp_param_count(&s->w.spec) * sizeof(float));
  report_row *dst = g ? report_add_row(rw) : NULL;
  if (!dst) {
    free(g);
    return -1;
  }
  snprintf(dst->backend, sizeof dst->backend, "%s", peer);
  int rc = run_peer(peer, p, s, 0, dir, dst, g, &loss);
  if (rc == 0) {
    dst->ran = dst->n_samples > 0;
    dst->gc_done = 1;
    gc_tol fp32 = gc_tol_fp32();
    gc_judge(&s->w.spec, g, loss, s->ref_loss, s->ref, &fp32, &dst->gc);
    report_row_summarize(dst, rw);
    flag_threads(peer, peer_needs_of(peer), dst);
  } else if (rc > 0) {
    rw->n_rows--; /* skipped: nothing added */
  } /* failed: the row stays, its error says why (a table row, and the results' status) */
  if (dir[0]) remove_dir(dir); /* a failed peer's export too: tens of MB */
  free(g);
  return rc;
}
