#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/be_handle.h"
#include "../engine/names.h"
#include "../engine/peers.h"
#include "../engine/plugins.h"
#include "../engine/registry.h"
#include "../output/results.h"
#include "../sys/term_text.h"

/* One table of every option: letter (for `allowed`), long name, argument, help. */
typedef struct {
  int key;
  const char *name;
  int has_arg;
  const char *arg, *help;
} opt_doc;

static const opt_doc docs[] = {
    {'b', "backend", 1, "LIST",
     "backends, comma-separated (default: every available one, emulated ones excepted)"},
    {'L', "backend-lib", 1, "PATH",
     "load a backend from a plugin (a shared library; repeatable; also " PLUGINS_ENV "=PATH:PATH)"},
    {'w', "workload", 1, "NAME", "a workload, or all"},
    {'d', "data", 1, "SPEC",
     "digits (embedded, default) | fashion | synthetic:N | FOLDER | FILE.csv"},
    {'n', "limit", 1, "N", "use only the first N samples of the training file"},
    {'e', "epochs", 1, "N", "epochs (toy 5000, mnist 5)"},
    {'B', "batch", 1, "N", "mnist batch size (128)"},
    {'H', "hidden", 1, "N", "hidden width (toy 3, mnist 500)"},
    {'l', "lr", 1, "X", "learning rate (toy 0.1, mnist 1e-3)"},
    {'S', "sampling", 1, "MODE",
     "shuffle (an epoch is one shuffled pass) | tutorial (int(N/batch) batches drawn with "
     "replacement)"},
    {'Z', "no-zero-grad", 0, NULL, "never zero gradients (the tutorial's missing zero_grad)"},
    {'s', "seed", 1, "N", "seed for weights, batch order and checks (128)"},
    {'t', "threads", 1, "N", "BLAS threads (default: the library's)"},
    {'F', "no-ftz", 0, NULL, "keep subnormal floats (FTZ/DAZ is on by default on CPU)"},
    {'T', "tf32", 0, NULL, "allow TF32 tensor cores on CUDA (looser gradient tolerance)"},
    {'C', "path", 1, "NAME",
     "code path of backends that offer several, as list shows (cuda: cublas | fused; also "
     "--cuda-path)"},
    {'W', "warmup", 1, "N", "timing samples excluded at the start of each run (1)"},
    {'r', "repeat", 1, "N", "independent runs per backend (mnist 1, toy 5)"},
    {'k', "block", 1, "N", "toy epochs per timing sample (500)"},
    {'N', "processes", 1, "N",
     "run each backend in N fresh processes with varied memory placement (1)"},
    {'K', "blas-kernel", 1, "NAME",
     "auto (default: where OpenBLAS fell back to a generic kernel, re-run with this CPU's) | "
     "default (the library's own choice) | an OPENBLAS_CORETYPE name"},
    {'f', "fd-samples", 1, "N", "finite-difference checks per tensor (8)"},
    {'o', "out", 1, "DIR", "output folder (export-png)"},
    {'R', "results", 1, "FILE", "results file (default results/bench-DATE-HOST.json)"},
    {'O', "format", 1, "FMT",
     "results format: native | gbench (Google Benchmark) | github | bmf (Bencher)"},
    {'M', "markdown", 1, "FILE", "also write the timing table as Markdown"},
    {'P', "plots", 1, "DIR", "draw PNG plots into DIR (gnuplot; the digit montage via libpng)"},
    {'p', "peers", 1, "LIST",
     "also run peers on the same run: numpy,torch (CPU), torch-cuda,torch-cuda-graph (GPU)"},
    {'E', "peer", 1, "NAME", "also check peers' gradients: numpy | torch | torch-cuda | ..."},
    {'J', "peer-timeout", 1, "S",
     "seconds a peer may run before it is killed and its row failed (1800)"},
    {'x', "sweep", 0, NULL, "also time batch sizes 1..1024 and hidden widths 16..4096"},
    {'Q', "require-quiet", 0, NULL,
     "exit 3 when a row was disturbed (the machine busy while it was timed), after writing "
     "every output"},
    {'c', "check", 1, "NAME", "conform: run this check only"},
    {'m', "time-limit", 1, "S",
     "conform: seconds each backend may take, loading its plugin and every check included "
     "(120)"},
    {'z', "ftz", 0, NULL,
     "conform: check with FTZ/DAZ on only (by default conform checks with it on, then off; "
     "--no-ftz: off only)"},
    {'q', "quiet", 0, NULL, "no progress line"},
    {'h', "help", 0, NULL, "this help"},
};
#define N_DOCS ((int)(sizeof docs / sizeof docs[0]))

int cli_option_count(void) {
  return N_DOCS;
}

const char *cli_option(int i, int *key, int *has_arg) {
  *key = docs[i].key;
  *has_arg = docs[i].has_arg;
  return docs[i].name;
}

/* Every command that names backends (and list, which shows them) loads plugins. */
static const char *with_libs(const char *cmd, const char *allowed, char *buf, size_t len) {
  if (!strchr(allowed, 'b') && strcmp(cmd, "list")) return allowed;
  snprintf(buf, len, "%sL", allowed);
  return buf;
}

void cli_print_help(const char *cmd, const char *allowed, const char *synopsis) {
  char eff[128];
  allowed = with_libs(cmd, allowed, eff, sizeof eff);
  printf("usage: mlpbench %s [options]\n%s\n\noptions:\n", cmd, synopsis);
  for (int i = 0; i < N_DOCS; i++) {
    if (!strchr(allowed, docs[i].key) && docs[i].key != 'h') continue;
    char left[48];
    snprintf(left, sizeof left, "-%c, --%s%s%s", docs[i].key, docs[i].name, docs[i].arg ? " " : "",
             docs[i].arg ? docs[i].arg : "");
    printf("  %-26s %s", left, docs[i].help);
    if (docs[i].key == 'w') /* the names come from the registry, so a new one needs no edit */
      for (int k = 0; k < workload_count(); k++)
        printf("%s%s%s", k ? ", " : ": ", workload_get(k)->name,
               workload_get(k)->in_all ? "" : " (not in all)");
    printf("\n");
  }
  printf("\nexit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 runtime failure\n");
}

static int parse_int(const char *cmd, const char *name, const char *s, long lo, long hi, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < lo || v > hi) {
    fprintf(stderr, "mlpbench %s: --%s must be an integer in %ld..%ld (got '%s')\n", cmd, name, lo,
            hi, TERM_TEXT(s));
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int peer_known(const char *p) {
  for (int i = 0; peers_known[i]; i++)
    if (strcmp(p, peers_known[i]) == 0) return 1;
  return 0;
}

/* A comma list: no empty item, no repeat, at most `max` items, each known when asked. */
static int check_list(const char *cmd, const char *name, const char *arg,
                      int (*known)(const char *), int max) {
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
    if (known && !known(p)) {
      char names[256] = "";
      for (int i = 0; peers_known[i]; i++) /* the peers, the only list checked by name */
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 peers_known[i]);
      fprintf(stderr, "mlpbench %s: --%s: unknown name '%s' (%s)\n", cmd, name, TERM_TEXT(p),
              names);
      return -1;
    }
    for (int i = 0; i < n; i++)
      if (strcmp(items[i], p) == 0) {
        why = "a name twice";
        goto bad;
      }
    if (n == max || n == 64) {
      fprintf(stderr, "mlpbench %s: --%s: more than %d names\n", cmd, name, max);
      return -1;
    }
    items[n++] = p;
    if (!c) break;
    p = c;
  }
  return 0;
bad:
  fprintf(stderr, "mlpbench %s: --%s '%s': %s\n", cmd, name, TERM_TEXT(arg), TERM_TEXT(why));
  return -1;
}

/* A tuning request must be known to some backend that takes requests. */
static int check_tuning(const char *cmd, const char *name, const char *arg) {
  char n[64], v[64], err[256] = "";
  int takers = 0;
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    if (!be_offers(be, BE_TUNED_ENV)) continue;
    takers++;
    if (be_tuned_env(be, arg, n, sizeof n, v, sizeof v, err, sizeof err) >= 0) return 0;
  }
  if (!takers) return 0; /* no backend takes requests in this build: nothing to apply */
  fprintf(stderr, "mlpbench %s: --%s %s\n", cmd, name, TERM_TEXT(err));
  return -1;
}

static int apply(cli_opts *o, const char *cmd, int key, const char *name, const char *arg) {
  const long big = 1L << 30;
  switch (key) {
  case 'b':
    if (strcmp(arg, "all") && check_list(cmd, name, arg, NULL, CLI_MAX_BACKENDS)) return -1;
    o->backends = arg;
    return 0;
  case 'L': {
    char err[1024];
    if (plugins_load(arg, err, sizeof err) == 0) return 0;
    fprintf(stderr, "mlpbench %s: %s\n", cmd, err);
    return -1;
  }
  case 'w':
    if (strcmp(arg, "all") && !workload_find(arg)) break;
    o->workload = arg;
    return 0;
  case 'd':
    o->data = arg;
    return 0;
  case 'n':
    return parse_int(cmd, name, arg, 2, big, &o->wl.limit);
  case 'e':
    return parse_int(cmd, name, arg, 1, big, &o->wl.epochs);
  case 'B':
    return parse_int(cmd, name, arg, 1, 1 << 20, &o->wl.batch);
  case 'H':
    return parse_int(cmd, name, arg, 1, 1 << 16, &o->wl.hidden);
  case 'l': {
    char *end = NULL;
    double x = strtod(arg, &end);
    float fx = (float)x;
    /* the value must survive the trip to fp32: no 0 from underflow, no Inf from overflow */
    if (!*arg || *end || !(x > 0.0) || !(fx >= FLT_MIN) || isinf(fx)) {
      fprintf(stderr,
              "mlpbench %s: --%s must be a positive number that fp32 holds (%g..%g), got '%s'\n",
              cmd, name, (double)FLT_MIN, (double)FLT_MAX, arg);
      return -1;
    }
    o->wl.lr = fx;
    o->wl.lr_set = 1;
    return 0;
  }
  case 'S':
    if (strcmp(arg, "shuffle") == 0)
      o->wl.sampling = WL_SAMPLE_SHUFFLE;
    else if (strcmp(arg, "tutorial") == 0)
      o->wl.sampling = WL_SAMPLE_TUTORIAL;
    else
      break;
    return 0;
  case 'Z':
    o->wl.no_zero_grad = 1;
    return 0;
  case 's': {
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(arg, &end, 10);
    if (!*arg || *end || errno || arg[0] == '-') break;
    o->seed = x;
    return 0;
  }
  case 't':
    return parse_int(cmd, name, arg, 1, 1024, &o->threads);
  case 'F':
    o->ftz = 0;
    return 0;
  case 'C':
    if (strchr(arg, ',')) { /* a list would be matched whole against each backend's list */
      fprintf(stderr, "mlpbench %s: --path takes one path (got '%s'): run once per path\n", cmd,
              TERM_TEXT(arg));
      return EXIT_USAGE;
    }
    if (!*arg || strlen(arg) > 32) break;
    o->path = arg;
    return 0;
  case 'T':
    o->tf32 = 1;
    return 0;
  case 'W':
    return parse_int(cmd, name, arg, 0, 1000, &o->warmup);
  case 'r':
    return parse_int(cmd, name, arg, 1, 1000, &o->repeat);
  case 'N':
    return parse_int(cmd, name, arg, 1, 100, &o->processes);
  case 'J':
    return parse_int(cmd, name, arg, 1, 86400, &o->peer_timeout_s);
  case 'k':
    return parse_int(cmd, name, arg, 1, big, &o->block);
  case 'K':
    if (check_tuning(cmd, name, arg)) return -1;
    o->blas_kernel = arg;
    return 0;
  case 'f':
    return parse_int(cmd, name, arg, 1, 1000, &o->fd_samples);
  case 'o':
    o->out_dir = arg;
    return 0;
  case 'R':
    o->results = arg;
    return 0;
  case 'p':
  case 'E':
    if (check_list(cmd, name, arg, peer_known, CLI_MAX_PEERS)) return -1;
    o->peers = arg;
    return 0;
  case 'M':
    o->markdown = arg;
    return 0;
  case 'P':
    o->plots_dir = arg;
    return 0;
  case 'x':
    o->sweep = 1;
    return 0;
  case 'Q':
    o->require_quiet = 1;
    return 0;
  case 'O':
    if ((o->format = results_format_find(arg)) < 0) break;
    return 0;
  case 'c':
    o->check = arg;
    return 0;
  case 'm':
    return parse_int(cmd, name, arg, 1, 3600, &o->time_limit);
  case 'q':
    o->quiet = 1;
    return 0;
  case 'z':
    o->ftz_only = 1;
    return 0;
  default:
    fprintf(stderr, "mlpbench %s: option --%s is not handled (a bug)\n", cmd, name);
    return -1;
  }
  fprintf(stderr, "mlpbench %s: bad value '%s' for --%s\n", cmd, TERM_TEXT(arg), name);
  return -1;
}

int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, cli_opts *o) {
  struct option longs[N_DOCS + 2]; /* every option, the cuda-path alias, the end */
  char shorts[3 * N_DOCS + 2] = "+";
  int nl = 0, ns = 1;
  char eff[128], err[1024];
  allowed = with_libs(cmd, allowed, eff, sizeof eff);
  memset(o, 0, sizeof *o);
  o->cmd = cmd;
  o->seed = 128;
  o->ftz = 1;
  o->warmup = 1;
  o->fd_samples = 8;
  o->peer_timeout_s = 1800;
  o->wl.lr = 0.0f;
  o->quiet = !isatty(2);
  for (int i = 0; i < N_DOCS; i++)
    if (strchr(allowed, docs[i].key) || docs[i].key == 'h') {
      longs[nl++] = (struct option){docs[i].name, docs[i].has_arg, NULL, docs[i].key};
      shorts[ns++] = (char)docs[i].key;
      if (docs[i].has_arg) shorts[ns++] = ':';
    }
  shorts[ns] = '\0';
  if (strchr(allowed, 'C')) /* the spelling, kept as an alias */
    longs[nl++] = (struct option){"cuda-path", 1, NULL, 'C'};
  longs[nl] = (struct option){0};
  /* the environment's plugins first, so a clash names the --backend-lib one as the second */
  if (strchr(allowed, 'L') && plugins_load_env(err, sizeof err)) {
    fprintf(stderr, "mlpbench %s: %s: %s\n", cmd, PLUGINS_ENV, err);
    return EXIT_USAGE;
  }
  optind = 0; /* glibc: 0 starts afresh, even after a parse that stopped inside "-abc" */
  opterr = 0;
  for (;;) {
    int li = -1, c = getopt_long(argc, argv, shorts, longs, &li);
    if (c == -1) break;
    if (c == 'h') return -1;
    if (c == '?' || c == ':') {
      const char *bad = argv[optind - 1];
      if (c == ':' || (optopt && strncmp(bad, "--", 2) == 0))
        fprintf(stderr, "mlpbench %s: option '%s' needs a value (see mlpbench %s --help)\n", cmd,
                TERM_TEXT(bad), cmd);
      else
        fprintf(stderr, "mlpbench %s: unknown option '%s' (see mlpbench %s --help)\n", cmd,
                TERM_TEXT(bad), cmd);
      return EXIT_USAGE;
    }
    const char *name = "?";
    for (int i = 0; i < nl; i++)
      if (longs[i].val == c) name = longs[i].name;
    if (apply(o, cmd, c, name, optarg)) return EXIT_USAGE;
  }
  if (optind < argc) {
    fprintf(stderr, "mlpbench %s: unexpected argument '%s' (see mlpbench %s --help)\n", cmd,
            TERM_TEXT(argv[optind]), cmd);
    return EXIT_USAGE;
  }
  /* a command that runs a math library runs its best kernel unless told otherwise
   * (--blas-kernel default keeps the library's own choice) */
  if (strchr(allowed, 'K') && !o->blas_kernel) o->blas_kernel = "auto";
  return 0;
}

/* Backends named in o->backends (or every available one); unknown names are usage errors,
 * unavailable ones named explicitly are reported and skipped (*worst becomes EXIT_RUNTIME). */
static int plan_backends(const cli_opts *o, run_plan *p, int *worst) {
  char why[256];
  if (!o->backends || strcmp(o->backends, "all") == 0) {
    /* an emulated backend proves kernels; it joins a run only when named */
    for (int i = 0; i < registry_count(); i++)
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
      int is_peer = 0;
      for (int i = 0; peers_known[i]; i++)
        is_peer |= strcmp(peers_known[i], tok) == 0;
      if (is_peer)
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
static int plan_path(const cli_opts *o, const run_plan *p) {
  int takers = 0;
  if (!o->path) return 0;
  for (int i = 0; i < p->n_backends; i++) {
    const char *paths = be_props(p->backends[i])->paths;
    if (!paths) continue;
    takers++;
    if (!list_has(paths, o->path)) {
      fprintf(stderr, "mlpbench %s: backend %s has no path '%s' (its paths: %s)\n", o->cmd,
              p->backends[i]->name, TERM_TEXT(o->path), paths);
      return EXIT_USAGE;
    }
  }
  if (!takers) {
    fprintf(stderr, "mlpbench %s: --path %s: none of the chosen backends offers a choice of path\n",
            o->cmd, TERM_TEXT(o->path));
    return EXIT_USAGE;
  }
  return 0;
}

int cli_plan(const cli_opts *o, const char *default_workload, run_plan *p, int *worst) {
  memset(p, 0, sizeof *p);
  *worst = EXIT_OK;
  int rc = plan_backends(o, p, worst);
  if (!rc) rc = plan_path(o, p);
  if (rc) return rc;
  const char *wl = o->workload ? o->workload : default_workload;
  for (int i = 0; i < workload_count(); i++) {
    const wl_entry *e = workload_get(i);
    if (strcmp(wl, "all") == 0 ? e->in_all : strcmp(wl, e->name) == 0)
      p->workloads[p->n_workloads++] = e;
  }
  static char peers[256]; /* check_list bounded the list to fit */
  snprintf(peers, sizeof peers, "%s", o->peers ? o->peers : "");
  for (char *save = NULL, *tok = strtok_r(peers, ",", &save); tok && p->n_peers < PLAN_MAX_PEERS;
       tok = strtok_r(NULL, ",", &save))
    p->peers[p->n_peers++] = tok;
  p->data = o->data;
  p->wl = o->wl;
  p->opts = (mlp_options){.threads = o->threads, .ftz = o->ftz, .tf32 = o->tf32, .path = o->path};
  p->seed = o->seed;
  p->warmup = o->warmup;
  p->repeat = o->repeat;
  p->block = o->block;
  p->fd_samples = o->fd_samples;
  p->quiet = o->quiet;
  p->sweep = o->sweep;
  p->require_quiet = o->require_quiet;
  p->processes = o->processes ? o->processes : 1;
  p->peer_timeout_s = o->peer_timeout_s;
  p->out.results = o->results;
  p->out.markdown = o->markdown;
  p->out.plots = o->plots_dir;
  p->out.format = o->format;
  return 0;
}

char **cli_argv;

/* --blas-kernel: each backend that knows the request names the environment variable its
 * library reads at load time; this process then re-runs itself with it set. */
const char *cli_kernel_chooser(const cli_opts *o) {
  const char *re = getenv("MLPBENCH_REEXEC");
  if (re && strcmp(re, "auto") == 0) return "mlpbench: the library's own was generic";
  if (re && strcmp(re, "user") == 0) return "--blas-kernel";
  if (o->blas_kernel && strcmp(o->blas_kernel, "default") == 0)
    return "the library, as asked (--blas-kernel default)";
  return "the library";
}

/* A wait policy is the user's when their environment sets any variable that chooses one. */
static const char *wait_user_var(const mlp_wait_policy *w) {
  for (int k = 0; k < 4 && w->user_vars[k]; k++)
    if (getenv(w->user_vars[k])) return w->user_vars[k];
  return NULL;
}

/* Each backend's library reads its kernel (--blas-kernel) and its threads' wait policy when
 * it loads: this process sets what they need and re-runs itself, once. MLPBENCH_REEXEC marks
 * the re-run (and who chose the kernel); MLPBENCH_WAIT_SET what mlpbench set for the waits,
 * so the results tell it from a value the user set. --processes children and peers inherit
 * the environment, so every process of the run waits the same way. */
void cli_apply_tuning(const cli_opts *o) {
  char name[64], value[64], err[256], set[256] = "";
  if (getenv("MLPBENCH_REEXEC")) return;
  int kernel = 0;
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    const mlp_wait_policy *w = be_wait_policy(be);
    if (w && w->name && w->value && !wait_user_var(w) && !getenv(w->name)) {
      setenv(w->name, w->value, 1);
      size_t used = strlen(set);
      snprintf(set + used, sizeof set - used, "%s%s=%s", used ? "," : "", w->name, w->value);
    }
    if (!o->blas_kernel || be_tuned_env(be, o->blas_kernel, name, sizeof name, value, sizeof value,
                                        err, sizeof err) != 1)
      continue;
    setenv(name, value, 1);
    fprintf(stderr, "mlpbench: re-running with %s=%s\n", name, TERM_TEXT(value));
    kernel = 1;
  }
  if (!kernel && !set[0]) return;
  /* the re-run process records who chose its kernel (cli_kernel_chooser) and its waits */
  setenv("MLPBENCH_REEXEC",
         !kernel                               ? "wait"
         : strcmp(o->blas_kernel, "auto") == 0 ? "auto"
                                               : "user",
         1);
  if (set[0]) setenv("MLPBENCH_WAIT_SET", set, 1);
  fflush(NULL);
  execv("/proc/self/exe", cli_argv);
  fprintf(stderr, "mlpbench: could not re-run itself (%s); continuing as it is\n", strerror(errno));
  /* the libraries loaded with the old environment: claim nothing they did not get */
  unsetenv("MLPBENCH_REEXEC");
  unsetenv("MLPBENCH_WAIT_SET");
  for (char *save = NULL, *v = strtok_r(set, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
    *strchr(v, '=') = '\0';
    unsetenv(v);
  }
}

void cli_wait_policy(char *buf, size_t len) {
  buf[0] = '\0';
  for (int i = 0; i < registry_count(); i++) {
    const mlp_wait_policy *w = registry_get(i)->wait_policy;
    if (!w || !w->name || !w->value) continue;
    char raw[256], mine[128];
    const char *user = wait_user_var(w), *set = getenv("MLPBENCH_WAIT_SET"), *cur = getenv(w->name);
    snprintf(mine, sizeof mine, "%s=%s", w->name, w->value);
    if (!user)
      snprintf(raw, sizeof raw, "the runtime's default (mlpbench did not re-run itself to set %s)",
               mine);
    else if (cur && strcmp(cur, w->value) == 0 && set && strstr(set, mine))
      snprintf(raw, sizeof raw, "%s (set by mlpbench)", mine);
    else {
      size_t used = 0;
      for (int k = 0; k < 4 && w->user_vars[k]; k++)
        if (getenv(w->user_vars[k]) && used < sizeof raw)
          used += (size_t)snprintf(raw + used, sizeof raw - used, "%s%s=%s", used ? ", " : "",
                                   w->user_vars[k], getenv(w->user_vars[k]));
      if (used < sizeof raw) snprintf(raw + used, sizeof raw - used, " (the user's)");
    }
    utf8_clean(buf, len, raw); /* the user's value goes into a JSON file */
    return;
  }
}

int cli_stray(const char *cmd, char **argv, int argc, int i, const char *usage) {
  const char *a = argv[i];
  if (a[0] != '-')
    fprintf(stderr, "mlpbench %s: a second file '%s': %s takes one (usage: %s)\n", cmd,
            TERM_TEXT(a), cmd, usage);
  else if (i + 1 == argc && strstr(usage, a))
    fprintf(stderr, "mlpbench %s: option '%s' needs a value (usage: %s)\n", cmd, TERM_TEXT(a),
            usage);
  else
    fprintf(stderr, "mlpbench %s: unknown option '%s' (usage: %s)\n", cmd, TERM_TEXT(a), usage);
  return EXIT_USAGE;
}
