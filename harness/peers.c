#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "results.h"
#include "spawn.h"
#include "trainer.h"

#ifndef MLPB_PEER_SCRIPT
#define MLPB_PEER_SCRIPT "workloads/reference/peer.py"
#endif

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
    if (spawn_run(argv, NULL, 0) == 0) {
      snprintf(found, sizeof found, "%s", cands[i]);
      return found;
    }
  }
  return NULL;
}

static int export_run(const char *dir, const cli_opts *o, const workload *w, const float *params,
                      const mlp_batch *gc) {
  const mlp_spec *s = &w->spec;
  int toy = w->kind == WL_TOY, n_idx = batch_order_epoch_len(w);
  int block = cli_timing_block(o, w), repeat = cli_repeat(o, w);
  json_t *run = json_pack(
      "{s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:i,s:i,s:i,s:i,s:b,s:i,s:i,s:i,s:i,s:i}",
      "workload", w->name, "n_in", s->n_in, "n_hidden", s->n_hidden, "n_out", s->n_out,
      "activation", s->act == MLP_ACT_RELU ? "relu" : "sigmoid", "loss",
      s->loss == MLP_LOSS_SOFTMAX_CE ? "softmax_cross_entropy" : "sigmoid_squared_error",
      "optimizer", s->opt == MLP_OPT_ADAM ? "adam" : "sgd", "lr", (double)s->lr, "beta1",
      (double)s->beta1, "beta2", (double)s->beta2, "eps", (double)s->eps, "batch", w->batch,
      "epochs", w->epochs, "warmup", o->warmup, "block", block, "repeat", repeat, "zero_grad",
      w->zero_grad, "n_train", w->n_train, "n_val", w->n_val, "n_test", w->n_test, "n_idx", n_idx,
      "n_gc", gc->n);
  char path[1200], err[256];
  snprintf(path, sizeof path, "%s/run.json", dir);
  int rc = run ? results_write(path, run, err, sizeof err) : -1;
  json_decref(run);
  size_t fl = sizeof(float), il = sizeof(int32_t), I = (size_t)s->n_in, O = (size_t)s->n_out;
  rc |= write_raw(dir, "params.f32", params, mlp_param_count(s) * fl);
  rc |= write_raw(dir, "gc_x.f32", gc->x, gc->n * I * fl);
  rc |= write_raw(dir, "x_train.f32", w->x_train, w->n_train * I * fl);
  if (toy) {
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
  int32_t *all = malloc((size_t)w->epochs * n_idx * il);
  if (!all || batch_order_init(&bo, w, o->seed)) {
    free(all);
    return -1;
  }
  for (int e = 0; e < w->epochs; e++)
    batch_order_next(&bo, all + (size_t)e * n_idx);
  batch_order_free(&bo);
  rc |= write_raw(dir, "order.i32", all, (size_t)w->epochs * n_idx * il);
  free(all);
  return rc;
}

/* Exports, runs the peer, and loads its result; *out_report owned by the caller. */
static int run_peer(const char *peer, const cli_opts *o, const workload *w, const float *params,
                    const mlp_batch *gc, int grads_only, char *dir, report *out, float *grads,
                    double *gc_loss) {
  const char *py = find_python(peer);
  if (!py) {
    fprintf(stderr, "mlpbench: peer %s skipped: no python3 with %s (apt-get install %s)\n", peer,
            strcmp(peer, "torch") == 0 ? "numpy and torch" : "numpy",
            strcmp(peer, "torch") == 0 ? "python3-torch" : "python3-numpy");
    return 1;
  }
  snprintf(dir, 64, "/tmp/mlpbench-peer-XXXXXX");
  if (!mkdtemp(dir) || export_run(dir, o, w, params, gc)) {
    fprintf(stderr, "mlpbench: peer %s: cannot export the run to %s\n", peer, dir);
    return -1;
  }
  const char *script = getenv("MLPBENCH_PEER_SCRIPT");
  char path[1200], err[1024], tag[32];
  const char *argv[] = {py,
                        script && *script ? script : MLPB_PEER_SCRIPT,
                        "--peer",
                        peer,
                        "--run",
                        dir,
                        grads_only ? "--grads-only" : NULL,
                        NULL};
  if (!o->quiet) fprintf(stderr, "  running peer %s ...\n", peer);
  snprintf(tag, sizeof tag, "peer %s", peer);
  int code = spawn_run(argv, tag, 20);
  if (code != 0) {
    fprintf(stderr, "mlpbench: peer %s %s (exit %d)\n", peer,
            code == 77 ? "skipped: its library is missing" : "failed", code);
    return code == 77 ? 1 : -1;
  }
  snprintf(path, sizeof path, "%s/result.json", dir);
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  json_t *row = json_array_get(
      json_object_get(json_array_get(json_object_get(j, "workloads"), 0), "results"), 0);
  *gc_loss = json_number_value(json_object_get(row, "gradcheck_loss"));
  int rc = j ? results_from_json(j, out, err, sizeof err) : -1;
  json_decref(j);
  FILE *f = NULL;
  snprintf(path, sizeof path, "%s/grads.f32", dir);
  size_t n = mlp_param_count(&w->spec);
  if (rc || !(f = fopen(path, "rb")) || fread(grads, sizeof(float), n, f) != n) {
    fprintf(stderr, "mlpbench: peer %s: unreadable output in %s\n", peer, dir);
    if (f) fclose(f);
    if (!rc) report_free(out);
    return -1;
  }
  fclose(f);
  return 0;
}

static void remove_dir(const char *dir) {
  if (rmtree(dir) != 0) fprintf(stderr, "mlpbench: could not remove %s\n", dir);
}

int peers_gradcheck(const char *peer, const cli_opts *o, const workload *w, const float *params,
                    const mlp_batch *gc, double ref_loss, const double *ref, gc_result *r) {
  char dir[64] = "";
  report rep;
  double loss = 0;
  float *g = malloc(mlp_param_count(&w->spec) * sizeof(float));
  if (!g) return -1;
  int rc = run_peer(peer, o, w, params, gc, 1, dir, &rep, g, &loss);
  if (rc == 0) {
    gc_judge(w, g, loss, ref_loss, ref, GC_TOL_FP32, r);
    report_free(&rep);
  }
  if (dir[0] && rc >= 0) remove_dir(dir);
  free(g);
  return rc;
}

int peers_bench(const char *peer, const cli_opts *o, const workload *w, const float *params,
                const mlp_batch *gc, double ref_loss, const double *ref, report_workload *rw) {
  char dir[64] = "";
  report rep;
  double loss = 0;
  float *g = malloc(mlp_param_count(&w->spec) * sizeof(float));
  if (!g || rw->n_rows >= REPORT_MAX_ROWS) {
    free(g);
    return -1;
  }
  int rc = run_peer(peer, o, w, params, gc, 0, dir, &rep, g, &loss);
  if (rc == 0) {
    report_row *dst = &rw->rows[rw->n_rows++], *src = &rep.wl[0].rows[0];
    *dst = *src;
    memset(src, 0, sizeof *src); /* the row's arrays now belong to rw */
    dst->ran = dst->n_samples > 0;
    dst->gc_done = 1;
    gc_judge(w, g, loss, ref_loss, ref, GC_TOL_FP32, &dst->gc);
    dst->st = stats_summarize(dst->samples, dst->n_samples);
    dst->samples_per_s = rw->samples_per_epoch / dst->st.median;
    dst->gflops = rw->gflop_per_epoch / dst->st.median;
    report_free(&rep);
  }
  if (dir[0] && rc >= 0) remove_dir(dir);
  free(g);
  return rc;
}
