/* mlpbench conform: the conformance checks (engine/conform.c) on every backend, or those
 * named, each backend's checks in a child process under a time limit: a backend that crashes
 * or hangs is one FAILED line, and the checks after the one it died in still run. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "../engine/be_handle.h"
#include "../engine/conform.h"
#include "../engine/plugins.h"
#include "../engine/registry.h"
#include "../sys/child_pipe.h"
#include "../sys/term_text.h"
#include "cli.h"

static const char conform_allowed[] = "bcmq";

typedef struct {
  int passed, failed, unsupported, skipped;
} tally;

static void count(tally *t, const char *line) {
  char status[16] = "";
  if (sscanf(line, "%*s %*s %15s", status) != 1) return;
  if (strcmp(status, "PASSED") == 0) t->passed++;
  if (strcmp(status, "FAILED") == 0) t->failed++;
  if (strcmp(status, "NOT") == 0) t->unsupported++;
  if (strcmp(status, "SKIPPED") == 0) t->skipped++;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One child: checks [first, last) of be; *died_in: the check it crashed or hung in, or -1. */
static int run_child(const mlp_backend *be, int first, int last, int limit, tally *t, int *died_in,
                     int *timed_out) {
  char a1[16], a2[16], line[2048], why[128] = "";
  char *argv[8 + 2 * PLUGINS_MAX] = {"mlpbench", "conform-child", (char *)be->name, a1, a2};
  int n = 5, current = -1;
  snprintf(a1, sizeof a1, "%d", first);
  snprintf(a2, sizeof a2, "%d", last);
  for (int i = 0; i < plugins_count(); i++)
    argv[n++] = (char *)plugins_path(i);
  argv[n] = NULL;
  child_pipe c;
  fflush(NULL);
  if (child_start(&c, "/proc/self/exe", argv)) {
    perror("mlpbench conform: cannot start a child");
    return -1;
  }
  double deadline = now() + limit;
  int got;
  while ((got = child_line(&c, deadline, line, sizeof line)) == 1) {
    if (strncmp(line, "@check ", 7) == 0) {
      current = conform_find(line + 7);
      continue;
    }
    printf("%s\n", line);
    count(t, line);
    if (current >= 0 && strstr(line, conform_name(current))) current = -1; /* it finished */
  }
  int status = child_finish(&c, got < 0);
  *died_in = -1;
  *timed_out = got < 0;
  if (got < 0)
    snprintf(why, sizeof why, "timed out after %d s (killed; --time-limit)", limit);
  else if (WIFSIGNALED(status))
    snprintf(why, sizeof why, "the child died of signal %d (%s)", WTERMSIG(status),
             strsignal(WTERMSIG(status)));
  else if (current >= 0)
    snprintf(why, sizeof why, "the child exited (status %d) inside the check",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  if (!why[0]) return 0;
  *died_in = current >= 0 ? current : first;
  char cmd[4200];
  conform_repro(be, conform_name(*died_in), cmd, sizeof cmd);
  printf("%-20s %-22s %-13s %s; repro: %s\n", be->name, conform_name(*died_in), "FAILED", why, cmd);
  t->failed++;
  return 0;
}

/* All of be's checks (or `only`), a fresh child after each one that died. */
static int conform_backend(const mlp_backend *be, int only, int limit, tally *t) {
  int first = only >= 0 ? only : 0, last = only >= 0 ? only + 1 : conform_count();
  while (first < last) {
    int died, timed_out;
    if (run_child(be, first, last, limit, t, &died, &timed_out)) return -1;
    if (died < 0) break;
    first = died + 1;
    /* a hang spent the backend's time: the rest is skipped, so one bad backend costs one
     * time limit, not one per check */
    for (int i = first; timed_out && i < last; i++, t->skipped++)
      printf("%-20s %-22s %-13s an earlier check timed out\n", be->name, conform_name(i),
             "SKIPPED");
    if (timed_out) break;
  }
  return 0;
}

static int pick_backends(const cli_opts *o, const mlp_backend **out, int max) {
  int n = 0;
  if (!o->backends || strcmp(o->backends, "all") == 0) {
    /* every backend this build has, emulated ones included: conform proves, it does not time */
    char why[256];
    for (int i = 0; i < registry_count() && n < max; i++)
      if (registry_get(i)->available(why, sizeof why)) out[n++] = registry_get(i);
    return n;
  }
  run_plan p;
  int worst;
  if (cli_plan(o, "mnist", &p, &worst)) return -1;
  for (int i = 0; i < p.n_backends && n < max; i++)
    out[n++] = p.backends[i];
  return n;
}

static void help(void) {
  cli_print_help("conform", conform_allowed,
                 "Checks every backend (or those named; by default every available one, emulated "
                 "ones included)\nagainst the float64 reference: each check prints PASSED, FAILED "
                 "(with a command that repeats\nit), NOT SUPPORTED or SKIPPED; exit 1 when one "
                 "failed. Each backend runs in a child process\nunder --time-limit.");
  printf("\nchecks:\n");
  for (int i = 0; i < conform_count(); i++)
    printf("  %s\n", conform_name(i));
}

int cmd_conform(int argc, char **argv) {
  cli_opts o;
  int rc = cli_parse(argc, argv, "conform", conform_allowed, &o);
  if (rc) {
    if (rc < 0) help();
    return rc < 0 ? EXIT_OK : rc;
  }
  int only = -1;
  if (o.check && (only = conform_find(o.check)) < 0) {
    char safe[128];
    fprintf(stderr, "mlpbench conform: no check '%s' (mlpbench conform --help lists them)\n",
            term_text(safe, sizeof safe, o.check));
    return EXIT_USAGE;
  }
  const mlp_backend *bes[PLAN_MAX_BACKENDS + REGISTRY_MAX_LOADED];
  int n = pick_backends(&o, bes, (int)(sizeof bes / sizeof bes[0]));
  if (n < 0) return EXIT_USAGE;
  if (n == 0) {
    fprintf(stderr, "mlpbench conform: no available backend to check\n");
    return EXIT_RUNTIME;
  }
  tally t = {0};
  for (int i = 0; i < n; i++)
    if (conform_backend(bes[i], only, o.time_limit ? o.time_limit : 120, &t)) return EXIT_RUNTIME;
  printf("\nconform: %d passed, %d failed, %d not supported, %d skipped (%d backend%s)\n", t.passed,
         t.failed, t.unsupported, t.skipped, n, n == 1 ? "" : "s");
  return t.failed ? EXIT_CHECK : EXIT_OK;
}

/* internal: `mlpbench conform-child NAME FIRST LAST [LIB...]`, one backend's checks */
int cmd_conform_child(int argc, char **argv) {
  char err[1024];
  if (argc < 4) return EXIT_USAGE;
  for (int i = 4; i < argc; i++)
    if (plugins_load(argv[i], err, sizeof err)) {
      fprintf(stderr, "mlpbench conform: %s\n", err);
      return EXIT_USAGE;
    }
  const mlp_backend *be = registry_find(argv[1]);
  int first = atoi(argv[2]), last = atoi(argv[3]), failed = 0;
  if (!be || first < 0 || last > conform_count()) return EXIT_USAGE;
  for (int i = first; i < last; i++)
    failed += conform_run(be, i, stdout);
  return failed ? EXIT_CHECK : EXIT_OK;
}
