/* fuzz_argv.c: the command line, from arbitrary bytes. The input is tokens separated by
 * newlines: the first names the command, the rest are its arguments. A token whose first byte
 * is a control character becomes an option of the real option table (cli_option), its long
 * name or, with a second byte, an abbreviation of it (getopt takes those); 0x7f then a byte
 * becomes the short form. Anything else is taken as it is, so values and garbage mix freely.
 *
 * Every command runs in a fresh folder holding two small results files (a.json, b.json). What
 * would leave that folder (an absolute path, "..") is not run; nor is what would take long or
 * start other programs: --processes (it re-runs /proc/self/exe, which is this fuzzer),
 * --blas-kernel (re-exec), --peers, --plots, --sweep, history --plots, plot and report (gnuplot),
 * and training beyond a tiny budget. Those inputs are still parsed, which is where counts are
 * checked. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../harness/cmd/cli.h"
#include "../../workloads/io/outfile.h"

#define MAX_TOKENS 24
#define MAX_TOKEN 80

static char base[256];

typedef struct {
  const char *name;
  int (*fn)(int, char **);
  int parsed;       /* takes cli_parse's options */
  int data, epochs; /* takes --data; --epochs (2: and --block) */
} fz_cmd;

static const fz_cmd cmds[] = {
    {"bench", cmd_bench, 1, 1, 2},           {"train", cmd_train, 1, 1, 1},
    {"gradcheck", cmd_gradcheck, 1, 1, 0},   {"list", cmd_list, 1, 0, 0},
    {"export-png", cmd_export_png, 1, 1, 0}, {"compare", cmd_compare, 0, 0, 0},
    {"history", cmd_history, 0, 0, 0},
};
#define N_CMDS ((int)(sizeof cmds / sizeof cmds[0]))

static void seed_results(void) {
  char *a[] = {"bench", "--workload", "toy",       "--epochs", "20", "--backend",
               "naive", "--quiet",    "--results", "a.json",   NULL};
  char *b[] = {"bench",   "--workload", "toy", "--epochs",  "20",     "--backend", "naive",
               "--quiet", "--seed",     "7",   "--results", "b.json", NULL};
  char *pa[12] = {"mlpbench"}, *pb[14] = {"mlpbench"};
  memcpy(pa + 1, a, sizeof a);
  memcpy(pb + 1, b, sizeof b);
  cmd_bench(10, pa + 1);
  cmd_bench(12, pb + 1);
}

static void remove_base(void) {
  if (base[0]) rmtree(base);
}

static int init(void) {
  const char *t = getenv("TMPDIR");
  snprintf(base, sizeof base, "%s/mlpbench-fuzz-argv-XXXXXX", t && *t == '/' ? t : "/tmp");
  if (!mkdtemp(base) || chdir(base) != 0) return -1;
  setenv("MLPBENCH_REEXEC", "fuzz", 1); /* never re-run: /proc/self/exe is this fuzzer */
  if (!getenv("MLPB_FUZZ_VERBOSE") && !freopen("/dev/null", "w", stdout)) return -1;
  atexit(remove_base);
  seed_results();
  return 0;
}

/* One token into out: an option of the table, or the bytes as they are. */
static void token(const uint8_t *p, size_t n, char *out) {
  int key, has_arg, no = cli_option_count();
  if (n && p[0] < 0x20) {
    const char *name = cli_option(p[0] % no, &key, &has_arg);
    size_t len = strlen(name);
    if (n > 1) len = 1 + p[1] % len; /* an abbreviation */
    snprintf(out, MAX_TOKEN, "--%.*s", (int)len, name);
  } else if (n > 1 && p[0] == 0x7f) {
    cli_option(p[1] % no, &key, &has_arg);
    snprintf(out, MAX_TOKEN, "-%c", key);
  } else {
    snprintf(out, MAX_TOKEN, "%.*s", (int)(n < MAX_TOKEN - 1 ? n : MAX_TOKEN - 1), (const char *)p);
  }
}

/* Stays in the run's folder: no absolute path but /dev/null, no "..". */
static int contained(const char *t) {
  if (strstr(t, "..")) return 0;
  const char *v = strchr(t, '=');
  v = v ? v + 1 : t;
  return v[0] != '/' || strcmp(v, "/dev/null") == 0;
}

static int tiny_data(const char *d) {
  if (!d) return 1; /* the fuzzer adds synthetic:200 */
  if (strncmp(d, "synthetic:", 10) == 0) return atol(d + 10) <= 400;
  /* a missing or wrong file fails at once; the real data sets take seconds */
  return strcmp(d, "digits") != 0 && strcmp(d, "fashion") != 0 && *d;
}

/* What would leave the folder, start programs or train for long is only parsed. */
static int runnable(const fz_cmd *c, int argc, char **argv, int *add_data, int *add_epochs,
                    int *add_block) {
  *add_data = *add_epochs = *add_block = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--plots") == 0) return 0; /* history's */
  if (!c->parsed) return 1;
  cli_opts o;
  static char all[128];
  if (!all[0]) {
    int key, has_arg, n = 0;
    for (int i = 0; i < cli_option_count() && n < 126; i++) {
      cli_option(i, &key, &has_arg);
      all[n++] = (char)key;
    }
  }
  if (cli_parse(argc, argv, c->name, all, &o) != 0) return 1; /* the command refuses it too */
  const run_plan *p = &o.plan;
  if (p->processes > 1 || o.peers || p->out.plots || p->sweep) return 0;
  if (p->wl.epochs > 30 || p->repeat > 3 || p->wl.hidden > 256 || p->opts.threads > 2 ||
      p->fd_samples > 16 || !tiny_data(p->data))
    return 0;
  *add_data = !p->data && c->data;
  *add_epochs = !p->wl.epochs && c->epochs; /* the defaults (5000 toy epochs) are the suite's */
  *add_block = !p->block && c->epochs == 2;
  return 1;
}

static void run(const fz_cmd *c, int argc, char **argv) {
  char dir[300];
  snprintf(dir, sizeof dir, "%s/run", base);
  rmtree(dir);
  if (mkdir(dir, 0700) != 0 || chdir(dir) != 0) return;
  FILE *f;
  const char *names[] = {"a.json", "b.json"};
  for (int i = 0; i < 2; i++) { /* a fresh copy: a command may have replaced them */
    char src[300], buf[1 << 16];
    snprintf(src, sizeof src, "%s/%s", base, names[i]);
    FILE *in = fopen(src, "rb");
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (in) fclose(in);
    if ((f = fopen(names[i], "wb"))) {
      fwrite(buf, 1, n, f);
      fclose(f);
    }
  }
  c->fn(argc, argv); /* argv[-1] is "mlpbench", as main's: bench records the whole line */
  if (chdir(base) != 0) abort();
  rmtree(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    if (init()) abort();
    ready = 1;
  }
  char toks[MAX_TOKENS + 6][MAX_TOKEN], *full[MAX_TOKENS + 8] = {"mlpbench"}, **argv = full + 1;
  int argc = 0;
  size_t at = 0;
  const fz_cmd *c = NULL;
  const uint8_t *nl0 = memchr(data, '\n', size);
  size_t n0 = nl0 ? (size_t)(nl0 - data) : size;
  for (int i = 0; i < N_CMDS && !c; i++)
    if (n0 == strlen(cmds[i].name) && memcmp(data, cmds[i].name, n0) == 0) c = &cmds[i];
  if (!c && n0) c = &cmds[data[0] % N_CMDS];
  if (!c || !nl0) return 0;
  argv[argc++] = (char *)c->name;
  at = n0 + 1;
  while (at <= size && argc < MAX_TOKENS) {
    const uint8_t *nl = memchr(data + at, '\n', size - at);
    size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
    token(data + at, n, toks[argc]);
    if (!contained(toks[argc])) return 0;
    argv[argc] = toks[argc];
    argc++;
    at += n + 1;
    if (!nl) break;
  }
  argv[argc] = NULL;
  int add, add_epochs, add_block;
  if (!runnable(c, argc, argv, &add, &add_epochs, &add_block)) return 0;
  /* tiny data, few epochs: tens of runs a second, even under the sanitizers */
  const char *extra[] = {add ? "--data" : NULL,          "synthetic:200",
                         add_epochs ? "--epochs" : NULL, "4",
                         add_block ? "--block" : NULL,   "2"};
  for (int i = 0; i < 6; i += 2)
    if (extra[i]) {
      snprintf(toks[MAX_TOKENS + i], MAX_TOKEN, "%s", extra[i]);
      snprintf(toks[MAX_TOKENS + i + 1], MAX_TOKEN, "%s", extra[i + 1]);
      argv[argc++] = toks[MAX_TOKENS + i];
      argv[argc++] = toks[MAX_TOKENS + i + 1];
    }
  argv[argc] = NULL;
  run(c, argc, argv);
  return 0;
}
