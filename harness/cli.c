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

#include "../impls/blas/blas.h"
#include "registry.h"

/* One table of every option: letter (for `allowed`), long name, argument, help. */
typedef struct {
  int key;
  const char *name;
  int has_arg;
  const char *arg, *help;
} opt_doc;

static const opt_doc docs[] = {
    {'b', "backend", 1, "LIST", "backends, comma-separated (default: every available one)"},
    {'w', "workload", 1, "NAME", "toy | mnist | all"},
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
    {'W', "warmup", 1, "N", "timing samples excluded at the start of each run (1)"},
    {'r', "repeat", 1, "N", "independent runs per backend (mnist 1, toy 5)"},
    {'k', "block", 1, "N", "toy epochs per timing sample (500)"},
    {'K', "blas-kernel", 1, "NAME",
     "auto | an OPENBLAS_CORETYPE name: re-run with those OpenBLAS kernels"},
    {'f', "fd-samples", 1, "N", "finite-difference checks per tensor (8)"},
    {'o', "out", 1, "DIR", "output folder (export-png)"},
    {'R', "results", 1, "FILE", "results file (default results/bench-DATE-HOST.json)"},
    {'O', "format", 1, "FMT", "results format: native | gbench (Google Benchmark) | github"},
    {'M', "markdown", 1, "FILE", "also write the timing table as Markdown"},
    {'P', "plots", 1, "DIR", "draw PNG plots into DIR (gnuplot; the digit montage via libpng)"},
    {'p', "peers", 1, "LIST", "also run peers on the same run: numpy,torch (python3)"},
    {'E', "peer", 1, "NAME", "also check a peer's gradients: numpy | torch"},
    {'x', "sweep", 0, NULL, "also time batch sizes 1..1024 and hidden widths 16..4096"},
    {'q', "quiet", 0, NULL, "no progress line"},
    {'h', "help", 0, NULL, "this help"},
};
#define N_DOCS ((int)(sizeof docs / sizeof docs[0]))

void cli_print_help(const char *cmd, const char *allowed, const char *synopsis) {
  printf("usage: mlpbench %s [options]\n%s\n\noptions:\n", cmd, synopsis);
  for (int i = 0; i < N_DOCS; i++) {
    if (!strchr(allowed, docs[i].key) && docs[i].key != 'h') continue;
    char left[48];
    snprintf(left, sizeof left, "-%c, --%s%s%s", docs[i].key, docs[i].name, docs[i].arg ? " " : "",
             docs[i].arg ? docs[i].arg : "");
    printf("  %-26s %s\n", left, docs[i].help);
  }
  printf("\nexit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 runtime failure\n");
}

static int parse_int(const char *cmd, const char *name, const char *s, long lo, long hi, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < lo || v > hi) {
    fprintf(stderr, "mlpbench %s: --%s must be an integer in %ld..%ld (got '%s')\n", cmd, name, lo,
            hi, s);
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int peer_known(const char *p) {
  return strcmp(p, "numpy") == 0 || strcmp(p, "torch") == 0;
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
      fprintf(stderr, "mlpbench %s: --%s: unknown name '%s' (numpy, torch)\n", cmd, name, p);
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
  fprintf(stderr, "mlpbench %s: --%s '%s': %s\n", cmd, name, arg, why);
  return -1;
}

static int apply(cli_opts *o, const char *cmd, int key, const char *name, const char *arg) {
  const long big = 1L << 30;
  switch (key) {
  case 'b':
    if (strcmp(arg, "all") && check_list(cmd, name, arg, NULL, CLI_MAX_BACKENDS)) return -1;
    o->backends = arg;
    return 0;
  case 'w':
    if (strcmp(arg, "toy") && strcmp(arg, "mnist") && strcmp(arg, "all")) break;
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
  case 'T':
    o->tf32 = 1;
    return 0;
  case 'W':
    return parse_int(cmd, name, arg, 0, 1000, &o->warmup);
  case 'r':
    return parse_int(cmd, name, arg, 1, 1000, &o->repeat);
  case 'k':
    return parse_int(cmd, name, arg, 1, big, &o->block);
  case 'K':
#ifdef MLPBENCH_HAVE_BLAS
    if (strcmp(arg, "auto") && !blas_backend_known_coretype(arg)) {
      fprintf(stderr,
              "mlpbench %s: --%s '%s' is not an OpenBLAS kernel name (auto, Haswell, SkylakeX, "
              "Zen, Sandybridge, Prescott, ...)\n",
              cmd, name, arg);
      return -1;
    }
#endif
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
  case 'O':
    if (strcmp(arg, "native") == 0)
      o->format = 0;
    else if (strcmp(arg, "gbench") == 0)
      o->format = 1;
    else if (strcmp(arg, "github") == 0)
      o->format = 2;
    else
      break;
    return 0;
  case 'q':
    o->quiet = 1;
    return 0;
  default:
    fprintf(stderr, "mlpbench %s: option --%s is not handled (a bug)\n", cmd, name);
    return -1;
  }
  fprintf(stderr, "mlpbench %s: bad value '%s' for --%s\n", cmd, arg, name);
  return -1;
}

int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, cli_opts *o) {
  struct option longs[N_DOCS + 1];
  char shorts[3 * N_DOCS + 2] = "+";
  int nl = 0, ns = 1;
  memset(o, 0, sizeof *o);
  o->cmd = cmd;
  o->seed = 128;
  o->ftz = 1;
  o->warmup = 1;
  o->fd_samples = 8;
  o->wl.lr = 0.0f;
  o->quiet = !isatty(2);
  for (int i = 0; i < N_DOCS; i++)
    if (strchr(allowed, docs[i].key) || docs[i].key == 'h') {
      longs[nl++] = (struct option){docs[i].name, docs[i].has_arg, NULL, docs[i].key};
      shorts[ns++] = (char)docs[i].key;
      if (docs[i].has_arg) shorts[ns++] = ':';
    }
  shorts[ns] = '\0';
  longs[nl] = (struct option){0};
  optind = 1;
  opterr = 0;
  for (;;) {
    int li = -1, c = getopt_long(argc, argv, shorts, longs, &li);
    if (c == -1) break;
    if (c == 'h') return -1;
    if (c == '?' || c == ':') {
      const char *bad = argv[optind - 1];
      if (c == ':' || (optopt && strncmp(bad, "--", 2) == 0))
        fprintf(stderr, "mlpbench %s: option '%s' needs a value (see mlpbench %s --help)\n", cmd,
                bad, cmd);
      else
        fprintf(stderr, "mlpbench %s: unknown option '%s' (see mlpbench %s --help)\n", cmd, bad,
                cmd);
      return EXIT_USAGE;
    }
    const char *name = "?";
    for (int i = 0; i < nl; i++)
      if (longs[i].val == c) name = longs[i].name;
    if (apply(o, cmd, c, name, optarg)) return EXIT_USAGE;
  }
  if (optind < argc) {
    fprintf(stderr, "mlpbench %s: unexpected argument '%s' (see mlpbench %s --help)\n", cmd,
            argv[optind], cmd);
    return EXIT_USAGE;
  }
  return 0;
}

int cli_select_backends(const cli_opts *o, const void *out[CLI_MAX_BACKENDS], int *exit_code) {
  int n = 0;
  char why[256];
  *exit_code = 0;
  if (!o->backends || strcmp(o->backends, "all") == 0) {
    for (int i = 0; i < registry_count() && n < CLI_MAX_BACKENDS; i++)
      if (registry_get(i)->available(why, sizeof why)) out[n++] = registry_get(i);
    return n;
  }
  char list[256];
  snprintf(list, sizeof list, "%s", o->backends);
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    const mlp_backend *be = registry_find(tok);
    if (!be) {
      fprintf(stderr, "mlpbench %s: unknown backend '%s' (see mlpbench list)\n", o->cmd, tok);
      *exit_code = EXIT_USAGE;
      return 0;
    }
    if (!be->available(why, sizeof why)) {
      fprintf(stderr, "mlpbench %s: backend %s unavailable: %s\n", o->cmd, tok, why);
      *exit_code = EXIT_RUNTIME;
      continue;
    }
    if (n < CLI_MAX_BACKENDS) out[n++] = be;
  }
  return n;
}

int cli_workloads(const cli_opts *o, wl_kind kinds[2]) {
  if (!o->workload || strcmp(o->workload, "all") == 0) {
    kinds[0] = WL_MNIST;
    kinds[1] = WL_TOY;
    return 2;
  }
  kinds[0] = strcmp(o->workload, "toy") == 0 ? WL_TOY : WL_MNIST;
  return 1;
}

char **cli_argv;

void cli_apply_blas_kernel(const cli_opts *o) {
#ifdef MLPBENCH_HAVE_BLAS
  if (!o->blas_kernel || getenv("MLPBENCH_REEXEC")) return;
  const char *want = o->blas_kernel;
  if (strcmp(want, "auto") == 0) {
    char advice[512];
    want = blas_backend_best_coretype();
    if (!want || !blas_backend_kernel_advice(advice, sizeof advice)) return;
  }
  if (strcmp(want, blas_backend_corename()) == 0) return;
  /* OpenBLAS picks its kernels when it loads, so the setting needs a fresh process */
  setenv("OPENBLAS_CORETYPE", want, 1);
  setenv("MLPBENCH_REEXEC", "1", 1);
  fprintf(stderr, "mlpbench: re-running with OPENBLAS_CORETYPE=%s\n", want);
  fflush(NULL);
  execv("/proc/self/exe", cli_argv);
  fprintf(stderr, "mlpbench: could not re-run itself (%s); continuing with kernel %s\n",
          strerror(errno), blas_backend_corename());
#else
  (void)o;

#endif
}

int cli_setup_workload(const cli_opts *o, wl_kind kind, mlpb_dataset *d, workload *w) {
  char err[1024];
  memset(d, 0, sizeof *d);
  if (kind == WL_TOY) {
    if (workload_toy(w, &o->wl, err, sizeof err)) goto fail;
    return 0;
  }
  if (dataset_load(o->data, d, err, sizeof err)) goto fail;
  if (workload_mnist(w, d, &o->wl, err, sizeof err)) {
    dataset_free(d);
    goto fail;
  }
  return 0;
fail:
  fprintf(stderr, "mlpbench %s: %s\n", o->cmd, err);
  return EXIT_USAGE;
}

int cli_timing_block(const cli_opts *o, const workload *w) {
  if (w->kind != WL_TOY) return 1;
  if (o->block) return o->block;
  int b = w->epochs / 10;
  return b < 1 ? 1 : b > 500 ? 500 : b;
}

int cli_repeat(const cli_opts *o, const workload *w) {
  return o->repeat ? o->repeat : (w->kind == WL_TOY ? 5 : 1);
}

mlp_options cli_backend_options(const cli_opts *o) {
  return (mlp_options){.threads = o->threads, .ftz = o->ftz, .tf32 = o->tf32};
}

const char *cli_cpu_model(void) {
  static char model[128] = "";
  if (model[0]) return model;
  snprintf(model, sizeof model, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) snprintf(model, sizeof model, "%s", c + 2);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
  if (f) fclose(f);
  return model;
}
