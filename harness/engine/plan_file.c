#include "plan_file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
#include "../output/results.h"
#include "plugins.h"
#include "registry.h"

static json_t *jstr_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

int plan_write(const char *path, const run_plan *p, char *err, size_t len) {
  json_t *be = json_array(), *wl = json_array(), *peers = json_array();
  for (int i = 0; i < p->n_backends; i++)
    json_array_append_new(be, json_string(p->backends[i]->name));
  for (int i = 0; i < p->n_workloads; i++)
    json_array_append_new(wl, json_string(p->workloads[i]->name));
  for (int i = 0; i < p->n_peers; i++)
    json_array_append_new(peers, json_string(p->peers[i]));
  /* the child loads the same plugins, by the paths this process resolved */
  json_t *libs = json_array();
  for (int i = 0; i < plugins_count(); i++)
    json_array_append_new(libs, json_string(plugins_path(i)));
  char seed[24];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
  json_t *j = json_pack(
      "{s:s, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i, s:i, s:i, s:f, s:b, s:i, s:b},"
      " s:{s:i, s:b, s:b, s:o}, s:s, s:i, s:i, s:i, s:i, s:b, s:b, s:i, s:i,"
      " s:{s:o, s:o, s:o, s:i}}",
      "schema", "mlpbench-plan-2", "backend_libs", libs, "backends", be, "workloads", wl, "peers",
      peers, "data", jstr_or_null(p->data), "wl", "epochs", p->wl.epochs, "batch", p->wl.batch,
      "hidden", p->wl.hidden, "limit", p->wl.limit, "lr", (double)p->wl.lr, "lr_set", p->wl.lr_set,
      "sampling", (int)p->wl.sampling, "no_zero_grad", p->wl.no_zero_grad, "opts", "threads",
      p->opts.threads, "ftz", p->opts.ftz, "tf32", p->opts.tf32, "path", jstr_or_null(p->opts.path),
      "seed", seed, "warmup", p->warmup, "repeat", p->repeat, "block", p->block, "fd_samples",
      p->fd_samples, "quiet", p->quiet, "sweep", p->sweep, "processes", p->processes,
      "peer_timeout", p->peer_timeout_s, "out", "results", jstr_or_null(p->out.results), "markdown",
      jstr_or_null(p->out.markdown), "plots", jstr_or_null(p->out.plots), "format", p->out.format);
  if (j && p->peak.given) /* the machine peak the child reuses instead of measuring its own */
    json_object_set_new(j, "peak",
                        json_pack("{s:f, s:o, s:o, s:o}", "gflops", p->peak.gflops, "by",
                                  jstr_or_null(p->peak.by), "at", jstr_or_null(p->peak.at),
                                  "disturbed", jstr_or_null(p->peak.disturbed)));
  if (!j) {
    snprintf(err, len, "%s: out of memory building the plan", path);
    return -1;
  }
  outfile o;
  int rc = outfile_open(&o, path, err, len);
  if (!rc && json_dumpf(j, o.f, JSON_INDENT(1)) != 0) {
    snprintf(err, len, "%s: cannot write the plan", path);
    outfile_abort(&o);
    rc = -1;
  } else if (!rc) {
    rc = outfile_commit(&o, err, len);
  }
  json_decref(j);
  return rc;
}

/* the read plan's strings: one process reads one plan */
static char *keep(const json_t *v) {
  const char *s = json_string_value(v);
  return s ? strdup(s) : NULL;
}

static const char *str_or(const json_t *v, const char *dflt) {
  const char *s = json_string_value(v);
  return s ? s : dflt;
}

static int geti(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_integer(v) ? (int)json_integer_value(v) : json_is_true(v) ? 1 : 0;
}

void plan_release(run_plan *p) {
  for (int i = 0; i < p->n_peers; i++)
    free((char *)p->peers[i]);
  free((char *)p->data);
  free((char *)p->opts.path);
  free((char *)p->out.results);
  free((char *)p->out.markdown);
  free((char *)p->out.plots);
  free((char *)p->peak.by);
  free((char *)p->peak.at);
  free((char *)p->peak.disturbed);
  memset(p, 0, sizeof *p);
}

int plan_read(const char *path, run_plan *p, char *err, size_t len) {
  char why[PATH_MAX + 256] = "";
  json_t *j = results_load_json(path, why, sizeof why); /* the same careful reader */
  memset(p, 0, sizeof *p);
  if (!j || strcmp(str_or(json_object_get(j, "schema"), ""), "mlpbench-plan-2")) {
    snprintf(err, len, "%s: not an mlpbench plan (%s)", path, j ? "schema" : why);
    json_decref(j);
    return -1;
  }
  json_t *libs = json_object_get(j, "backend_libs");
  for (size_t i = 0; i < json_array_size(libs); i++) {
    const char *lib = json_string_value(json_array_get(libs, i));
    if (!lib || plugins_load(lib, err, len)) {
      if (!lib) snprintf(err, len, "%s: backend_libs holds a non-string", path);
      json_decref(j);
      return -1;
    }
  }
  json_t *be = json_object_get(j, "backends"), *wl = json_object_get(j, "workloads");
  json_t *peers = json_object_get(j, "peers"), *w = json_object_get(j, "wl");
  json_t *opts = json_object_get(j, "opts"), *out = json_object_get(j, "out");
  for (size_t i = 0; i < json_array_size(be) && i <= (size_t)registry_count(); i++) {
    const char *name = json_string_value(json_array_get(be, i));
    const mlp_backend *found = name ? registry_find(name) : NULL;
    if (!found) goto unknown;
    if (plan_add_backend(p, found)) goto unknown;
  }
  for (size_t i = 0; i < json_array_size(wl) && p->n_workloads < PLAN_MAX_WORKLOADS; i++) {
    const char *name = json_string_value(json_array_get(wl, i));
    const wl_entry *e = NULL;
    for (int k = 0; name && k < workload_count(); k++)
      if (strcmp(workload_get(k)->name, name) == 0) e = workload_get(k);
    if (!e) goto unknown;
    p->workloads[p->n_workloads++] = e;
  }
  for (size_t i = 0; i < json_array_size(peers) && p->n_peers < PLAN_MAX_PEERS; i++)
    if (!(p->peers[p->n_peers++] = keep(json_array_get(peers, i)))) goto unknown;
  p->data = keep(json_object_get(j, "data"));
  p->wl = (wl_config){.epochs = geti(w, "epochs"),
                      .batch = geti(w, "batch"),
                      .hidden = geti(w, "hidden"),
                      .limit = geti(w, "limit"),
                      .lr = (float)json_number_value(json_object_get(w, "lr")),
                      .lr_set = geti(w, "lr_set"),
                      .sampling = (wl_sampling)geti(w, "sampling"),
                      .no_zero_grad = geti(w, "no_zero_grad")};
  p->opts = (mlp_options){.threads = geti(opts, "threads"),
                          .ftz = geti(opts, "ftz"),
                          .tf32 = geti(opts, "tf32"),
                          .path = keep(json_object_get(opts, "path"))};
  p->seed = strtoull(str_or(json_object_get(j, "seed"), "0"), NULL, 10);
  p->warmup = geti(j, "warmup");
  p->repeat = geti(j, "repeat");
  p->block = geti(j, "block");
  p->fd_samples = geti(j, "fd_samples");
  p->quiet = geti(j, "quiet");
  p->sweep = geti(j, "sweep");
  p->processes = geti(j, "processes");
  p->peer_timeout_s = geti(j, "peer_timeout");
  p->out.results = keep(json_object_get(out, "results"));
  p->out.markdown = keep(json_object_get(out, "markdown"));
  p->out.plots = keep(json_object_get(out, "plots"));
  p->out.format = geti(out, "format");
  json_t *peak = json_object_get(j, "peak");
  if (json_is_object(peak) && json_is_number(json_object_get(peak, "gflops"))) {
    p->peak.given = 1;
    p->peak.gflops = json_number_value(json_object_get(peak, "gflops"));
    p->peak.by = keep(json_object_get(peak, "by"));
    p->peak.at = keep(json_object_get(peak, "at"));
    p->peak.disturbed = keep(json_object_get(peak, "disturbed"));
  }
  json_decref(j);
  /* the ranges cli.c allows (0 keeps a workload's default): a plan is data, checked as such */
  const long big = 1L << 30;
  const struct {
    const char *name;
    long v, lo, hi;
  } in_range[] = {{"warmup", p->warmup, 0, 1000},
                  {"repeat", p->repeat, 0, 1000},
                  {"block", p->block, 0, big},
                  {"fd_samples", p->fd_samples, 0, 1000},
                  {"processes", p->processes, 1, 100},
                  {"peer_timeout", p->peer_timeout_s, 1, 86400},
                  {"epochs", p->wl.epochs, 0, big},
                  {"batch", p->wl.batch, 0, 1 << 20},
                  {"hidden", p->wl.hidden, 0, 1 << 16},
                  {"limit", p->wl.limit, 0, big},
                  {"threads", p->opts.threads, 0, 1024},
                  {"sampling", p->wl.sampling, 0, 1},
                  {"format", p->out.format, 0, 3},
                  {"backends", p->n_backends, 1, registry_count()},
                  {"workloads", p->n_workloads, 1, PLAN_MAX_WORKLOADS}};
  for (size_t i = 0; i < sizeof in_range / sizeof in_range[0]; i++)
    if (in_range[i].v < in_range[i].lo || in_range[i].v > in_range[i].hi) {
      snprintf(err, len, "%s: %s %ld outside %ld..%ld", path, in_range[i].name, in_range[i].v,
               in_range[i].lo, in_range[i].hi);
      plan_release(p);
      return -1;
    }
  if (p->wl.limit == 1) {
    snprintf(err, len, "%s: limit 1 leaves no validation split", path);
    plan_release(p);
    return -1;
  }
  return 0;
unknown:
  snprintf(err, len, "%s: names a backend, workload or peer this build does not have", path);
  json_decref(j);
  if (p->n_peers && !p->peers[p->n_peers - 1]) p->n_peers--; /* the name that failed */
  plan_release(p);
  return -1;
}
