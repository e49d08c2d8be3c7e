#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <float.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workloads/io/outfile.h"
#include "../backends/be_handle.h"
#include "../backends/names.h"
#include "../backends/plugins.h"
#include "../backends/registry.h"
#include "../output/plots.h"
#include "../output/results.h"
#include "../sys/exitcode.h"
#include "../sys/term_text.h"
#include "peers.h"

#define V(field) offsetof(opt_values, field)
#define BIG (1L << 30)

static const char *const samplings[] = {"shuffle", "tutorial", NULL};
static const char *const table_formats[] = {"md", "json", NULL};
static const char *const metrics[] = {"wall", "cpu", NULL};
static const char *results_formats[8]; /* from results_format_name, at opt_init */

static int peer_known(const char *p) {
  for (int i = 0; peers_known[i]; i++)
    if (strcmp(p, peers_known[i]) == 0) return 1;
  return 0;
}

static int workload_known(const char *w) {
  return strcmp(w, "all") == 0 || workload_find(w) != NULL;
}

/* --path: one name (a list would be matched whole against each backend's list) */
static const char *path_rule(const char *arg) {
  if (strchr(arg, ',')) return "takes one path: run once per path";
  if (!*arg || strlen(arg) > 32) return "must be 1 to 32 characters";
  return NULL;
}

/* the lists of a plan, for its file */
static int enc_backends(const run_plan *p, int i, char *buf, size_t len) {
  if (i >= p->n_backends) return 0;
  snprintf(buf, len, "%s", p->backends[i]->name);
  return 1;
}
static int enc_workloads(const run_plan *p, int i, char *buf, size_t len) {
  if (p->wl_all) return i == 0 ? snprintf(buf, len, "all"), 1 : 0;
  if (i >= p->n_workloads) return 0;
  snprintf(buf, len, "%s", p->workloads[i]->name);
  return 1;
}
static int enc_peers(const run_plan *p, int i, char *buf, size_t len) {
  if (i >= p->n_peers) return 0;
  snprintf(buf, len, "%s", p->peers[i]);
  return 1;
}
static int enc_libs(const run_plan *p, int i, char *buf, size_t len) {
  (void)p; /* the child loads the same plugins, by the paths this process resolved */
  if (i >= plugins_count()) return 0;
  snprintf(buf, len, "%s", plugins_path(i));
  return 1;
}

/* The one table. Workload defaults (epochs, batch, hidden, lr) live in the workloads' registry
 * entries and are listed from there by --help. */
static const opt_def table[] = {
    {'b', "backend", OPT_LIST, 0, PLAN_MAX_BACKENDS, NULL, "LIST",
     "backends, comma-separated (default: every available one; emulated ones only in conform)",
     V(backends), .plan = 1, .encode = enc_backends},
    {'L', "backend-lib", OPT_MULTI, 0, 0, NULL, "PATH",
     "load a backend from a plugin (a shared library; repeatable; also " PLUGINS_ENV "=PATH:PATH)",
     V(libs), .plan = 1, .encode = enc_libs},
    {'w', "workload", OPT_LIST, 0, PLAN_MAX_WORKLOADS, NULL, "NAME",
     "a workload, a comma list of them, or all (each with the options it takes: the toy net "
     "runs as the tutorial wrote it unless named)",
     V(workload), .known = workload_known, .plan = 1, .encode = enc_workloads},
    {'d', "data", OPT_STR, 0, 0, NULL, "SPEC",
     "digits (embedded, default) | fashion | synthetic:N | FOLDER | FILE.csv", V(plan.data),
     .wl = WL_TAKES_DATA, .plan = 1},
    {'n', "limit", OPT_INT, 2, BIG, NULL, "N", "use only the first N samples of the training file",
     V(plan.wl.limit), .wl = WL_TAKES_LIMIT, .plan = 1},
    {'e', "epochs", OPT_INT, 1, BIG, NULL, "N", "epochs", V(plan.wl.epochs), .wl = WL_TAKES_EPOCHS,
     .plan = 1},
    {'B', "batch", OPT_INT, 1, 1 << 20, NULL, "N", "batch size", V(plan.wl.batch),
     .wl = WL_TAKES_BATCH, .plan = 1},
    {'H', "hidden", OPT_INT, 1, 1 << 16, NULL, "N", "hidden width", V(plan.wl.hidden),
     .wl = WL_TAKES_HIDDEN, .plan = 1},
    {'l', "lr", OPT_LR, 0, 0, NULL, "X", "learning rate", V(plan.wl.lr), .wl = WL_TAKES_LR,
     .plan = 1},
    {'S', "sampling", OPT_ENUM, 0, 0, NULL, "MODE",
     "shuffle (an epoch is one shuffled pass) | tutorial (int(N/batch) batches drawn with "
     "replacement)",
     V(plan.wl.sampling), samplings, .wl = WL_TAKES_SAMPLING, .plan = 1},
    {'Z', "no-zero-grad", OPT_FLAG, 1, 0, NULL, NULL,
     "never zero gradients (the tutorial's missing zero_grad)", V(plan.wl.no_zero_grad),
     .wl = WL_TAKES_ZERO_GRAD, .plan = 1},
    {'s', "seed", OPT_U64, 0, 0, "128", "N", "seed for weights, batch order and checks",
     V(plan.seed), .plan = 1},
    {'t', "threads", OPT_INT, 1, 1024, NULL, "N", "BLAS threads (default: the library's)",
     V(plan.opts.threads), .plan = 1},
    {'F', "no-ftz", OPT_FLAG, 0, 0, NULL, NULL,
     "keep subnormal floats (FTZ/DAZ is on by default on CPU)", V(plan.opts.ftz), .plan = 1},
    {'T', "tf32", OPT_FLAG, 1, 0, NULL, NULL,
     "allow TF32 tensor cores on CUDA (looser gradient tolerance)", V(plan.opts.tf32), .plan = 1},
    {'C', "path", OPT_STR, 0, 0, NULL, "NAME",
     "code path of backends that offer several, as list shows (cuda: cublas | fused; also "
     "--cuda-path)",
     V(plan.opts.path), .check = path_rule, .plan = 1},
    {'W', "warmup", OPT_INT, 0, 1000, "1", "N", "timing samples excluded at the start of each run",
     V(plan.warmup), .plan = 1},
    {'r', "repeat", OPT_INT, 1, 1000, NULL, "N", "independent runs per backend (mnist 1, toy 5)",
     V(plan.repeat), .plan = 1},
    {'k', "block", OPT_INT, 1, BIG, NULL, "N", "toy epochs per timing sample (500)", V(plan.block),
     .wl = WL_TAKES_BLOCK, .plan = 1},
    {'N', "processes", OPT_INT, 1, 100, "1", "N",
     "run each backend in N fresh processes with varied memory placement", V(plan.processes),
     .plan = 1},
    {'K', "blas-kernel", OPT_STR, 0, 0, NULL, "NAME",
     "auto (default: where OpenBLAS fell back to a generic kernel, re-run with this CPU's) | "
     "default (the library's own choice) | an OPENBLAS_CORETYPE name",
     V(blas_kernel), .plan = 0},
    {'f', "fd-samples", OPT_INT, 1, 1000, "8", "N", "finite-difference checks per tensor",
     V(plan.fd_samples), .plan = 1},
    {'o', "out", OPT_STR, 0, 0, NULL, "PATH",
     "where to write: export-png's folder; compare's, report's or export's file", V(out),
     .plan = 0},
    {'R', "results", OPT_STR, 0, 0, NULL, "FILE",
     "results file (default results/bench-DATE-HOST.json)", V(plan.out.results), .plan = 1},
    {'O', "format", OPT_ENUM, 0, 0, NULL, "FMT",
     "results format: native | gbench (Google Benchmark) | github | bmf (Bencher)",
     V(plan.out.format), results_formats, .plan = 1},
    {'M', "markdown", OPT_STR, 0, 0, NULL, "FILE", "also write the timing table as Markdown",
     V(plan.out.markdown), .plan = 1},
    {'P', "plots", OPT_STR, 0, 0, NULL, "DIR",
     "draw PNG plots into DIR (gnuplot; the digit montage via libpng)", V(plan.out.plots),
     .plan = 1},
    {'p', "peers", OPT_LIST, 0, PLAN_MAX_PEERS, NULL, "LIST",
     "also run peers on the same run: numpy,torch (CPU), torch-cuda,torch-cuda-graph (GPU)",
     V(peers), .known = peer_known, .plan = 1, .encode = enc_peers},
    {'E', "peer", OPT_LIST, 0, PLAN_MAX_PEERS, NULL, "NAME",
     "also check peers' gradients: numpy | torch | torch-cuda | ...", V(peers),
     .known = peer_known},
    {'J', "peer-timeout", OPT_INT, 1, 86400, "1800", "S",
     "seconds a peer may run before it is killed and its row failed", V(plan.peer_timeout_s),
     .plan = 1},
    {'x', "sweep", OPT_FLAG, 1, 0, NULL, NULL,
     "also time batch sizes 1..1024 and hidden widths 16..4096", V(plan.sweep), .plan = 1},
    {'Q', "require-quiet", OPT_FLAG, 1, 0, NULL, NULL,
     "exit 3 when a row was disturbed (the machine busy while it was timed), after writing "
     "every output",
     V(plan.require_quiet), .plan = 0},
    {'c', "check", OPT_STR, 0, 0, NULL, "NAME", "conform: run this check only", V(check),
     .plan = 0},
    {'m', "time-limit", OPT_INT, 1, 3600, NULL, "S",
     "conform: seconds each backend may take, loading its plugin and every check included "
     "(120)",
     V(time_limit), .plan = 0},
    {'z', "ftz", OPT_FLAG, 1, 0, NULL, NULL,
     "conform: check with FTZ/DAZ on only (by default conform checks with it on, then off; "
     "--no-ftz: off only)",
     V(ftz_only), .plan = 0},
    {'a', "alpha", OPT_FRACTION, 0, 0, "0.05", "P", "compare: the significance level", V(alpha),
     .plan = 0},
    {'y', "min-effect", OPT_FRACTION, 0, 0, "0.05", "F",
     "compare, history: the smallest change that counts, a fraction of the median", V(min_effect),
     .plan = 0},
    {'A', "format", OPT_ENUM, 0, 0, NULL, "FMT", "compare: md (a table) | json (the verdicts)",
     V(table_format), table_formats, .plan = 0},
    {'u', "metric", OPT_ENUM, 0, 0, NULL, "M",
     "compare: wall (time per epoch) | cpu (the process's CPU time per epoch, all threads)",
     V(metric_cpu), metrics, .plan = 0},
    {'G', "force", OPT_FLAG, 1, 0, NULL, NULL,
     "compare: judge rows of different workloads or machines", V(force), .plan = 0},
    {'i', "paired", OPT_FLAG, 1, 0, NULL, NULL,
     "compare: file i of BASE and of NEW ran side by side (A/B rounds)", V(paired), .plan = 0},
    {'I', "allow-inconclusive", OPT_FLAG, 1, 0, NULL, NULL,
     "compare: rows that could not be judged do not fail the gate", V(allow_inconclusive),
     .plan = 0},
    {'X', "fail-on-step", OPT_FLAG, 1, 0, NULL, NULL,
     "history: exit 1 when the latest step of a series is a slowdown", V(fail_on_step), .plan = 0},
    {'v', "since", OPT_INT, 1, 1000000, NULL, "N",
     "history: --fail-on-step fails only for a step whose first slower run is among a series' last "
     "N runs",
     V(since), .plan = 0},
    {'D', "history", OPT_MULTI, 0, 0, NULL, "FOLDER",
     "report: the history of the results files in FOLDER (repeatable)", V(history), .plan = 0},
    {'g', "images", OPT_STR, 0, 0, NULL, "DIR",
     "report: the PNGs to embed (e.g. bench's --plots folder) instead of redrawing", V(images),
     .plan = 0},
    {'q', "quiet", OPT_FLAG, 1, 0, NULL, NULL, "no progress line", V(plan.quiet), .plan = 1},
};
#define N_OPTS ((int)(sizeof table / sizeof table[0]))
_Static_assert(N_OPTS <= 64, "opt_values.given holds a flag per option");

int opt_count(void) {
  return N_OPTS;
}

const opt_def *opt_get(int i) {
  return &table[i];
}

const opt_def *opt_by_key(int key) {
  for (int i = 0; i < N_OPTS; i++)
    if (table[i].key == key) return &table[i];
  return NULL;
}

static void *field(opt_values *o, const opt_def *d) {
  return (char *)o + d->off;
}

/* d's field inside a bare plan, or NULL when d fills no plan field */
static const void *plan_field(const run_plan *p, const opt_def *d) {
  size_t at = offsetof(opt_values, plan);
  if (d->off < at || d->off >= at + sizeof(run_plan)) return NULL;
  return (const char *)p + (d->off - at);
}

void opt_init(opt_values *o, const char *cmd) {
  for (int f = 0; f < 7 && results_format_name(f); f++)
    results_formats[f] = results_format_name(f);
  memset(o, 0, sizeof *o);
  o->cmd = cmd;
  for (int i = 0; i < N_OPTS; i++) {
    if (table[i].type == OPT_FLAG) *(int *)field(o, &table[i]) = !table[i].lo;
    if (table[i].dflt) opt_set(o, &table[i], table[i].dflt);
  }
  memset(o->given, 0, sizeof o->given);
}

/* A comma list: no empty item, no repeat, at most `max` items, each known when asked. */
static int check_list(const char *cmd, const opt_def *d, const char *arg) {
  char buf[256], *items[64];
  int n = 0;
  const char *why = NULL;
  if (strlen(arg) >= sizeof buf) {
    why = "too long";
    goto bad;
  }
  snprintf(buf, sizeof buf, "%s", arg);
  for (char *p = buf;; p++) {
    char *c = strchr(p, ',');
    if (c) *c = '\0';
    if (!*p) {
      why = "an empty name";
      goto bad;
    }
    if (d->known && !d->known(p)) {
      char names[256] = "";
      if (d->known == peer_known)
        for (int i = 0; peers_known[i]; i++)
          snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                   peers_known[i]);
      else
        for (int i = 0; i < workload_count(); i++)
          snprintf(names + strlen(names), sizeof names - strlen(names), "%s, ",
                   workload_get(i)->name);
      if (d->known == workload_known) strncat(names, "all", sizeof names - strlen(names) - 1);
      fprintf(stderr, "mlpbench %s: --%s: unknown name '%s' (%s)\n", cmd, d->name, TERM_TEXT(p),
              names);
      return -1;
    }
    for (int i = 0; i < n; i++)
      if (strcmp(items[i], p) == 0) {
        why = "a name twice";
        goto bad;
      }
    if (n == d->hi || n == 64) {
      fprintf(stderr, "mlpbench %s: --%s: more than %ld names\n", cmd, d->name, d->hi);
      return -1;
    }
    if (strcmp(p, "all") == 0 && (n || c)) {
      why = "all with other names";
      goto bad;
    }
    items[n++] = p;
    if (!c) break;
    p = c;
  }
  return 0;
bad:
  fprintf(stderr, "mlpbench %s: --%s '%s': %s\n", cmd, d->name, TERM_TEXT(arg), TERM_TEXT(why));
  return -1;
}

int opt_set(opt_values *o, const opt_def *d, const char *arg) {
  void *f = field(o, d);
  const char *cmd = o->cmd;
  char *end = NULL;
  int i = (int)(d - table);
  if (i >= 0 && i < N_OPTS) o->given[i] = 1;
  switch (d->type) {
  case OPT_FLAG:
    *(int *)f = (int)d->lo;
    return 0;
  case OPT_INT: {
    errno = 0;
    long v = strtol(arg, &end, 10); /* the whole text, range-checked before it becomes an int */
    if (!*arg || *end || errno || v < d->lo || v > d->hi) {
      fprintf(stderr, "mlpbench %s: --%s must be an integer in %ld..%ld (got '%s')\n", cmd, d->name,
              d->lo, d->hi, TERM_TEXT(arg));
      return -1;
    }
    *(int *)f = (int)v;
    return 0;
  }
  case OPT_U64: {
    errno = 0;
    unsigned long long x = strtoull(arg, &end, 10);
    if (!*arg || *end || errno || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ') break;
    *(uint64_t *)f = x;
    return 0;
  }
  case OPT_LR: {
    double x = strtod(arg, &end);
    float fx = (float)x;
    /* the value must survive the trip to fp32: no 0 from underflow, no Inf from overflow */
    if (!*arg || *end || !(x > 0.0) || !(fx >= FLT_MIN) || isinf(fx)) {
      fprintf(stderr,
              "mlpbench %s: --%s must be a positive number that fp32 holds (%g..%g), got '%s'\n",
              cmd, d->name, (double)FLT_MIN, (double)FLT_MAX, TERM_TEXT(arg));
      return -1;
    }
    *(float *)f = fx;
    o->plan.wl.lr_set = 1;
    return 0;
  }
  case OPT_FRACTION: {
    double v = strtod(arg, &end);
    if (!*arg || *end || !(v > 0 && v < 1)) {
      fprintf(stderr, "mlpbench %s: --%s must be in (0, 1), got '%s'\n", cmd, d->name,
              TERM_TEXT(arg));
      return -1;
    }
    *(double *)f = v;
    return 0;
  }
  case OPT_STR: {
    const char *why = d->check ? d->check(arg) : NULL;
    if (why) {
      fprintf(stderr, "mlpbench %s: --%s '%s': %s\n", cmd, d->name, TERM_TEXT(arg), why);
      return -1;
    }
    *(const char **)f = arg;
    return 0;
  }
  case OPT_ENUM:
    for (int k = 0; d->choices[k]; k++)
      if (strcmp(arg, d->choices[k]) == 0) {
        *(int *)f = k;
        return 0;
      }
    {
      char names[128] = "";
      for (int k = 0; d->choices[k]; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? " | " : "",
                 d->choices[k]);
      fprintf(stderr, "mlpbench %s: --%s is %s, got '%s'\n", cmd, d->name, names, TERM_TEXT(arg));
    }
    return -1;
  case OPT_LIST:
    if (check_list(cmd, d, arg)) return -1;
    *(const char **)f = arg;
    return 0;
  case OPT_MULTI: {
    opt_multi *m = f;
    if (m->n == OPT_MAX_MULTI) {
      fprintf(stderr, "mlpbench %s: --%s: more than %d\n", cmd, d->name, OPT_MAX_MULTI);
      return -1;
    }
    m->v[m->n++] = arg;
    return 0;
  }
  }
  fprintf(stderr, "mlpbench %s: bad value '%s' for --%s\n", cmd, TERM_TEXT(arg), d->name);
  return -1;
}

int opt_plan_text(const run_plan *p, const opt_def *d, char *buf, size_t len) {
  static opt_values dflt; /* the defaults every field is compared with */
  static int have;
  if (!have) opt_init(&dflt, "plan"), have = 1;
  const void *v = plan_field(p, d), *v0 = plan_field(&dflt.plan, d);
  if (!v) return 0;
  switch (d->type) {
  case OPT_FLAG:
    snprintf(buf, len, "1");
    return *(const int *)v == d->lo && *(const int *)v0 != d->lo;
  case OPT_INT:
    snprintf(buf, len, "%d", *(const int *)v);
    return *(const int *)v != *(const int *)v0;
  case OPT_U64:
    snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)v);
    return *(const uint64_t *)v != *(const uint64_t *)v0;
  case OPT_LR:
    snprintf(buf, len, "%.9g", (double)*(const float *)v); /* 9 digits: the float exactly */
    return p->wl.lr_set;
  case OPT_ENUM:
    snprintf(buf, len, "%s", d->choices[*(const int *)v]);
    return *(const int *)v != *(const int *)v0;
  case OPT_STR:
    if (!*(const char *const *)v) return 0;
    snprintf(buf, len, "%s", *(const char *const *)v);
    return 1;
  default:
    return 0;
  }
}

/* --blas-kernel: must be known to some backend that takes requests. */
static int check_tuning(const char *cmd, const char *arg) {
  char n[64], v[64], err[256] = "";
  int takers = 0;
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    if (!be_offers(be, BE_TUNED_ENV)) continue;
    takers++;
    if (be_tuned_env(be, arg, n, sizeof n, v, sizeof v, err, sizeof err) >= 0) return 0;
  }
  if (!takers) return 0; /* no backend takes requests in this build: nothing to apply */
  fprintf(stderr, "mlpbench %s: --blas-kernel %s\n", cmd, TERM_TEXT(err));
  return -1;
}

/* path (checked by outfile_check, so its folder exists) made absolute: the real folder and the
 * name, so a later chdir() cannot move it. */
static int absolute(const char *cmd, const char *path, int is_dir, char *out) {
  char copy[PATH_MAX], real[PATH_MAX];
  if (strlen(path) >= sizeof copy) goto long_path;
  snprintf(copy, sizeof copy, "%s", path);
  if (is_dir) {
    if (!realpath(path, real)) goto fail;
    snprintf(out, PATH_MAX, "%s", real);
    return 0;
  }
  char *base = basename(copy), dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  if (!realpath(dirname(dir), real)) goto fail;
  int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") ? real : "", base);
  if (n < 0 || n >= PATH_MAX) goto long_path;
  return 0;
fail:
  fprintf(stderr, "mlpbench %s: %s: cannot resolve its folder: %s\n", cmd, TERM_TEXT(path),
          strerror(errno));
  return -1;
long_path:
  fprintf(stderr, "mlpbench %s: %s: path longer than PATH_MAX\n", cmd, TERM_TEXT(path));
  return -1;
}

/* The outputs, checked now (not after a long run) and made absolute. */
static int prepare_outputs(opt_values *o) {
  run_plan *p = &o->plan;
  char err[PATH_MAX + 256], xp[PATH_MAX] = "";
  const char *cmd = o->cmd;
  if (p->out.results && p->out.format != RESULTS_NATIVE &&
      results_export_path(p->out.results, p->out.format, xp, sizeof xp)) {
    fprintf(stderr, "mlpbench %s: %s: the export's name beside it is too long\n", cmd,
            TERM_TEXT(p->out.results));
    return EXIT_USAGE;
  }
  if ((p->out.results && outfile_check(p->out.results, err, sizeof err)) ||
      (xp[0] && outfile_check(xp, err, sizeof err)) ||
      (p->out.markdown && outfile_check(p->out.markdown, err, sizeof err)) ||
      (p->out.plots && plots_check_dir(p->out.plots, err, sizeof err))) {
    fprintf(stderr, "mlpbench %s: %s\n", cmd, TERM_TEXT(err));
    return EXIT_USAGE;
  }
  /* after the checks, which create the folders: any spelling of one file is caught */
  if (xp[0] && p->out.markdown && outfile_same(xp, p->out.markdown)) {
    fprintf(stderr, "mlpbench %s: --markdown %s is the export %s: one would replace the other\n",
            cmd, TERM_TEXT(p->out.markdown), TERM_TEXT(xp));
    return EXIT_USAGE;
  }
  if (p->out.results && p->out.markdown && outfile_same(p->out.results, p->out.markdown)) {
    fprintf(stderr,
            "mlpbench %s: --markdown %s is the results file %s: one would replace the other\n", cmd,
            TERM_TEXT(p->out.markdown), TERM_TEXT(p->out.results));
    return EXIT_USAGE;
  }
  const char **outs[3] = {&p->out.results, &p->out.markdown, &p->out.plots};
  for (int i = 0; i < 3; i++) {
    if (!*outs[i]) continue;
    if (absolute(cmd, *outs[i], i == 2, o->abs[i])) return EXIT_USAGE;
    *outs[i] = o->abs[i];
  }
  return 0;
}

int opt_prepare(opt_values *o) {
  char err[1024];
  if (o->prepared) return 0;
  if (!getcwd(o->cwd, sizeof o->cwd)) o->cwd[0] = '\0';
  int rc = prepare_outputs(o); /* before any plugin code runs */
  if (rc) return rc;
  /* the environment's plugins first, so a clash names the --backend-lib one as the second */
  if (o->load_libs && plugins_load_env(err, sizeof err)) {
    fprintf(stderr, "mlpbench %s: %s: %s\n", o->cmd, PLUGINS_ENV, err);
    return EXIT_USAGE;
  }
  for (int i = 0; i < o->libs.n; i++)
    if (plugins_load(o->libs.v[i], err, sizeof err)) {
      fprintf(stderr, "mlpbench %s: %s\n", o->cmd, err);
      return EXIT_USAGE;
    }
  if (o->blas_kernel && check_tuning(o->cmd, o->blas_kernel)) return EXIT_USAGE;
  o->prepared = 1;
  return 0;
}

/* Backends named in o->backends (or every available one); unknown names are usage errors,
 * unavailable ones named explicitly are reported and skipped (*worst becomes EXIT_RUNTIME). */
static int plan_backends(const opt_values *o, run_plan *p, int *worst) {
  char why[256];
  if (!o->backends || strcmp(o->backends, "all") == 0) {
    /* an emulated backend proves kernels; it joins a run only when named */
    for (int i = 0; i < registry_count(); i++) /* every one: no cap */
      if (be_available(registry_get(i), why, sizeof why) && !be_props(registry_get(i))->emulated &&
          plan_add_backend(p, registry_get(i))) {
        fprintf(stderr, "mlpbench %s: out of memory\n", o->cmd);
        return EXIT_RUNTIME;
      }
    return 0;
  }
  char list[256];
  snprintf(list, sizeof list, "%s", o->backends); /* check_list bounded it */
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    const mlp_backend *be = registry_find(tok);
    if (!be) {
      const char *known[64];
      int nk = 0;
      for (int i = 0; i < registry_count() && nk < 64; i++)
        known[nk++] = registry_get(i)->name;
      const char *near = names_nearest(tok, known, nk);
      if (peer_known(tok))
        fprintf(stderr, "mlpbench %s: '%s' is a peer, not a backend: name it with --peers\n",
                o->cmd, TERM_TEXT(tok));
      else
        fprintf(stderr,
                "mlpbench %s: unknown backend '%s'%s%s%s (see mlpbench list; a plugin's backend "
                "exists only once --backend-lib loads it)\n",
                o->cmd, TERM_TEXT(tok), near ? ": did you mean '" : "", near ? near : "",
                near ? "'?" : "");
      return EXIT_USAGE;
    }
    for (int i = 0; i < p->n_backends; i++) /* two names of one backend (a plan's, say) */
      if (p->backends[i] == be) {
        fprintf(stderr, "mlpbench %s: --backend names %s twice\n", o->cmd, TERM_TEXT(tok));
        return EXIT_USAGE;
      }
    if (!be_available(be, why, sizeof why)) {
      fprintf(stderr, "mlpbench %s: backend %s unavailable: %s\n", o->cmd, TERM_TEXT(tok),
              TERM_TEXT(why));
      *worst = EXIT_RUNTIME;
      continue;
    }
    if (plan_add_backend(p, be)) {
      fprintf(stderr, "mlpbench %s: out of memory\n", o->cmd);
      return EXIT_RUNTIME;
    }
  }
  return 0;
}

/* comma list `list` holds `name` */
static int list_has(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *s = list; s && *s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
    if (strncmp(s, name, n) == 0 && (s[n] == ',' || s[n] == '\0')) return 1;
  return 0;
}

/* --path NAME: every planned backend that offers paths must offer NAME, and one must. */
static int plan_path(const opt_values *o, const run_plan *p) {
  int takers = 0;
  const char *path = p->opts.path;
  if (!path) return 0;
  for (int i = 0; i < p->n_backends; i++) {
    const char *paths = be_props(p->backends[i])->paths;
    if (!paths) continue;
    takers++;
    if (!list_has(paths, path)) {
      fprintf(stderr, "mlpbench %s: backend %s has no path '%s' (its paths: %s)\n", o->cmd,
              p->backends[i]->name, TERM_TEXT(path), paths);
      return EXIT_USAGE;
    }
  }
  if (!takers) {
    fprintf(stderr, "mlpbench %s: --path %s: none of the chosen backends offers a choice of path\n",
            o->cmd, TERM_TEXT(path));
    return EXIT_USAGE;
  }
  return 0;
}

/* Each option given that is a workload setting: refused when a named workload does not take
 * it; under --workload all, said once where it does not apply. */
static int plan_workload_options(const opt_values *o, const run_plan *p) {
  for (int i = 0; i < N_OPTS; i++) {
    if (!table[i].wl || !o->given[i]) continue;
    char skipped[128] = "", taken[128] = "";
    for (int k = 0; k < p->n_workloads; k++) {
      const wl_entry *e = p->workloads[k];
      unsigned takes = p->wl_all ? e->takes_in_all : e->takes;
      char *to = takes & table[i].wl ? taken : skipped;
      snprintf(to + strlen(to), sizeof taken - strlen(to), "%s%s", *to ? ", " : "", e->name);
      if (!p->wl_all && !(takes & table[i].wl)) {
        fprintf(stderr,
                "mlpbench %s: --%s does not apply to workload %s (%s): leave it out, or name "
                "another workload\n",
                o->cmd, table[i].name, e->name, e->summary);
        return EXIT_USAGE;
      }
    }
    if (!taken[0]) {
      fprintf(stderr, "mlpbench %s: --%s applies to none of the workloads (%s)\n", o->cmd,
              table[i].name, skipped);
      return EXIT_USAGE;
    }
    if (skipped[0] && o->notes)
      fprintf(stderr,
              "mlpbench %s: note: --%s applies to %s; %s keeps its own (name a workload, "
              "--workload %s, to set it there)\n",
              o->cmd, table[i].name, taken, skipped, skipped);
  }
  return 0;
}

int opt_plan(opt_values *o, const char *default_workload, int *worst) {
  run_plan *p = &o->plan;
  *worst = EXIT_OK;
  int rc = opt_prepare(o);
  if (rc) return rc;
  p->n_backends = p->n_peers = p->n_workloads = 0;
  if ((rc = plan_backends(o, p, worst)) || (rc = plan_path(o, p))) return rc;
  const char *wl = o->workload ? o->workload : default_workload;
  p->wl_all = strcmp(wl, "all") == 0;
  for (int i = 0; i < workload_count(); i++) {
    const wl_entry *e = workload_get(i);
    if (p->wl_all ? e->in_all : list_has(wl, e->name)) p->workloads[p->n_workloads++] = e;
  }
  if ((rc = plan_workload_options(o, p))) return rc;
  static char peers[256]; /* check_list bounded the list to fit; one plan per process */
  snprintf(peers, sizeof peers, "%s", o->peers ? o->peers : "");
  for (char *save = NULL, *tok = strtok_r(peers, ",", &save); tok && p->n_peers < PLAN_MAX_PEERS;
       tok = strtok_r(NULL, ",", &save))
    p->peers[p->n_peers++] = tok;
  return 0;
}

wl_config opt_wl_config(const run_plan *p, const wl_entry *e) {
  static opt_values dflt;
  static int have;
  if (!have) opt_init(&dflt, "plan"), have = 1;
  run_plan q = *p;
  unsigned takes = p->wl_all ? e->takes_in_all : e->takes;
  for (int i = 0; i < N_OPTS; i++) {
    const opt_def *d = &table[i];
    if (!d->wl || (takes & d->wl)) continue;
    const void *from = plan_field(&dflt.plan, d);
    void *to = (void *)plan_field(&q, d);
    if (!from) continue;
    if (d->type == OPT_LR) q.wl.lr_set = 0;
    memcpy(to, from, d->type == OPT_STR ? sizeof(char *) : sizeof(int));
  }
  return q.wl;
}
