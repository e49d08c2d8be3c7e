#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workloads/io/outfile.h"
#include "../stats/stats.h"
#include "../sys/checked.h"
#include "../sys/spawn.h"
#include "../sys/tmpdir.h"
#include "trainer.h"
#include "wl_describe.h"

#define PEER_DIR_MAX 4096
#define PEER_MAX_ORDER ((size_t)1 << 31) /* bytes of batch indices a peer is sent, at most */

#ifndef MLPB_PEER_SCRIPT
#define MLPB_PEER_SCRIPT "workloads/reference/peer.py"
#endif

const char *const peers_known[] = {"numpy", "torch", "torch-cuda", "torch-cuda-graph", NULL};

static int write_raw(const char *dir, const char *name, const void *p, size_t bytes) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = bytes ? fwrite(p, 1, bytes, f) : 0;
  return (fclose(f) != 0 || n != bytes) ? -1 : 0;
}

/* A python that imports the peer's library: $MLPBENCH_PYTHON, python3, /usr/bin/python3. */
static const char *find_python(const char *peer) {
  static char found[512];
  const char *env = getenv("MLPBENCH_PYTHON");
  const char *cands[] = {env && *env ? env : NULL, "python3", "/usr/bin/python3"};
  for (int i = 0; i < 3; i++) {
    if (!cands[i]) continue;
    const char *argv[] = {
        cands[i], "-c", strcmp(peer, "torch") == 0 ? "import numpy, torch" : "import numpy", NULL};
    spawn_job j = {.argv = argv, .timeout_s = 60}; /* an import that hangs is no python */
    if (spawn_job_run(&j) == 0) {
      snprintf(found, sizeof found, "%s", cands[i]);
      return found;
    }
  }
  return NULL;
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
  char path[1200];
  snprintf(path, sizeof path, "%s/run.json", dir);
  int rc = (run && ident && wl_identity_to_json(&id, ident) == 0 &&
            json_object_set(run, "identity", ident) == 0)
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

/* peer.json ("mlpbench-peer-2") into a report row (its arrays owned by the row). */
static int read_exchange(const char *path, const wl_identity *sent, report_row *row,
                         double *gc_loss, char *err, size_t len) {
  /* the path is ours (a mkdtemp folder), short; the file's content is the peer's */
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  const char *schema = json_string_value(json_object_get(j, "schema"));
  if (!j || !schema || strcmp(schema, "mlpbench-peer-2") != 0) {
    snprintf(err, len, "%s: not a peer exchange file (%s)", path, j ? "schema" : je.text);
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
  const char *py = find_python(peer);
  if (!py) {
    int torch = strncmp(peer, "torch", 5) == 0;
    fprintf(stderr, "mlpbench: peer %s skipped: no python3 with %s (apt-get install %s)\n", peer,
            torch ? "numpy and torch" : "numpy", torch ? "python3-torch" : "python3-numpy");
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
  char path[1200], err[1400], tag[48];
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
  /* no envp: the peer inherits this process's environment, and with it the threads' wait
   * policy mlpbench set before it re-ran (cli_apply_tuning), or the user's: PyTorch's libgomp
   * reads it as the blas backend's did, so a busy machine slows both alike (issue 24) */
  spawn_job job = {.argv = argv, .tag = tag, .show = 20, .timeout_s = p->peer_timeout_s};
  int code = spawn_job_run(&job);
  if (code == 77) {
    fprintf(stderr,
            "mlpbench: peer %s skipped: its library, device or mode is not available "
            "here\n",
            peer);
    return 1;
  }
  if (code == SPAWN_TIMED_OUT)
    snprintf(row->error, sizeof row->error, "peer %s timed out after %d s (killed; --peer-timeout)",
             peer, p->peer_timeout_s);
  else if (code != 0)
    snprintf(row->error, sizeof row->error, "peer %s failed (exit %d)", peer, code);
  if (code != 0) {
    fprintf(stderr, "mlpbench: %s\n", row->error);
    return -1;
  }
  snprintf(path, sizeof path, "%s/peer.json", dir);
  wl_identity sent;
  wl_describe_identity(w, &sent);
  if (read_exchange(path, &sent, row, gc_loss, err, sizeof err)) {
    snprintf(row->error, sizeof row->error, "peer %s: %.400s", peer, err);
    fprintf(stderr, "mlpbench: %s\n", row->error);
    free_row_arrays(row);
    return -1;
  }
  FILE *f = NULL;
  snprintf(path, sizeof path, "%s/grads.f32", dir);
  size_t n = mlp_param_count(&w->spec);
  if (!(f = fopen(path, "rb")) || fread(grads, sizeof(float), n, f) != n) {
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
    gc_judge(&s->w, g, loss, s->ref_loss, s->ref, &fp32, r);
    free_row_arrays(&row);
  }
  if (dir[0]) remove_dir(dir);
  free(g);
  return rc;
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
    gc_judge(&s->w, g, loss, s->ref_loss, s->ref, &fp32, &dst->gc);
    dst->st = stats_summarize(dst->samples, dst->n_samples);
    dst->device_median = dst->n_dev ? stats_summarize(dst->dev_samples, dst->n_dev).median : NAN;
    dst->samples_per_s = rw->samples_per_epoch / dst->st.median;
    dst->gflops = rw->gflop_per_epoch / dst->st.median;
  } else if (rc > 0) {
    rw->n_rows--; /* skipped: nothing added */
  } /* failed: the row stays, its error says why (a table row, and the results' status) */
  if (dir[0]) remove_dir(dir); /* a failed peer's export too: tens of MB */
  free(g);
  return rc;
}
