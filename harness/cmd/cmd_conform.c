/* mlpbench conform: the conformance checks (check/conform.c) on every backend, or those
 * named, for code we do not trust. This process never runs a plugin's code: it does not load
 * a plugin at all. Children do (`conform-child`): one first only loads a plugin and names its
 * backend (its name, availability and code paths), then children run the checks, each in a
 * process group of its own, reporting on a private pipe (conform_proto.h, child_pipe.h).
 * Every check given to a child is reported or FAILED with the reason (crashed, hung, exited,
 * broke the protocol, could not load); a fresh child takes the checks after one it died in.
 * Each backend has one deadline (--time-limit), loading included; a hang spends it and the
 * rest of that backend is SKIPPED. Each declared code path is checked, with FTZ/DAZ on and
 * off. SIGINT/SIGTERM stop the running child's group, then us. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../backends/be_handle.h"
#include "../backends/plugins.h"
#include "../backends/registry.h"
#include "../check/conform.h"
#include "../check/conform_proto.h"
#include "../sys/child_pipe.h"
#include "../sys/interrupt.h"
#include "../sys/plugin_guard.h"
#include "../sys/sh_quote.h"
#include "../sys/term_text.h"
#include "../sys/timer.h"
#include "cli.h"

static const char conform_allowed[] = "bcmqCFz";

#define CF_REPORT_FD 3 /* where a child finds its report pipe (it moves it higher itself) */

typedef struct {
  int passed, failed, unsupported, skipped;
} tally;

/* A backend to check: a built-in one, or the one a plugin's child named. */
typedef struct {
  char name[MLP_NAME_MAX + 1], paths[128], why[256];
  const char *lib; /* the plugin's resolved path; NULL: built in */
  int available;
  double spent; /* seconds of its deadline spent loading it */
} cf_backend;

/* One code path and FTZ setting of a backend. */
typedef struct {
  const cf_backend *be;
  const char *path; /* NULL: the backend offers no choice */
  int ftz;
} cf_variant;

static void label(const cf_variant *v, char *buf, size_t len) {
  snprintf(buf, len, "%s%s%s%s", v->be->name, v->path ? "/" : "", v->path ? v->path : "",
           v->ftz ? "" : " no-ftz");
}

/* The command that repeats one check of one variant: malloc'd, quoted for a POSIX shell,
 * never cut. lib alone (check NULL): the command that loads the plugin again. */
static char *repro(const cf_variant *v, const char *lib, const char *check) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (!f) return NULL;
  fputs("mlpbench conform", f);
  if (lib) {
    size_t len = 4 * strlen(lib) + 1; /* each byte may become U+FFFD */
    char *safe = malloc(len);
    fputs(" --backend-lib ", f);
    sh_quote(f, safe ? term_text(safe, len, lib) : "?");
    free(safe);
  }
  if (v) {
    fprintf(f, " --backend %s", v->be->name);
    if (v->path) fprintf(f, " --path %s", v->path);
    fprintf(f, " %s", v->ftz ? "--ftz" : "--no-ftz");
  }
  if (check) fprintf(f, " --check %s", check);
  fclose(f);
  return out;
}

static void print_line(tally *t, const char *lab, const char *check, cf_status st, const char *msg,
                       const char *rep) {
  printf("%-20s %-22s %-13s %s", lab, check, conform_status_word(st), msg);
  if (st == CF_FAILED) printf("; repro: %s", rep ? rep : "(out of memory)");
  printf("\n");
  fflush(stdout);
  t->passed += st == CF_PASSED;
  t->failed += st == CF_FAILED;
  t->unsupported += st == CF_NOT_SUPPORTED;
  t->skipped += st == CF_SKIPPED;
}

static void print_result(tally *t, const cf_variant *v, int check, cf_status st, const char *msg) {
  char lab[MLP_NAME_MAX + 160];
  char *rep = st == CF_FAILED ? repro(v, v->be->lib, conform_name(check)) : NULL;
  label(v, lab, sizeof lab);
  print_line(t, lab, conform_name(check), st, msg, rep);
  free(rep);
}

/* Why a child ended without reporting everything given to it. */
static void why_ended(const child_pipe *c, const cp_child *st, int got, int limit, char *why,
                      size_t len) {
  const char *when = !st->got_backend ? " while loading the backend" : "";
  int s = c->status;
  if (got == -1)
    snprintf(why, len, "timed out after %d s%s (hung; killed: --time-limit is per backend)", limit,
             when);
  else if (st->broke[0])
    snprintf(why, len, "the child broke the report protocol: %s (killed)", st->broke);
  else if (st->error[0])
    snprintf(why, len, "the child could not load the backend: %s", st->error);
  else if (WIFSIGNALED(s))
    snprintf(why, len, "the child crashed: signal %d (%s)%s", WTERMSIG(s), strsignal(WTERMSIG(s)),
             when);
  else if (!st->got_backend)
    snprintf(why, len, "the child exited (status %d) while loading the backend, before it named it",
             WIFEXITED(s) ? WEXITSTATUS(s) : -1);
  else
    snprintf(why, len, "the child exited (status %d) without reporting this check",
             WIFEXITED(s) ? WEXITSTATUS(s) : -1);
}

/* Runs `mlpbench conform-child` for checks [first, last) of v (none: it only names the
 * backend), under the deadline. Results are printed as they come; st holds what it said.
 * Returns child_line's last answer (0 ended, -1 deadline, -2 stop) with *c finished. */
static int run_child(const char *lib, const cf_variant *v, int first, int last, double deadline,
                     tally *t, child_pipe *c, cp_child *st) {
  char a_fd[16], a_first[16], a_last[16], line[1024], msg[800];
  snprintf(a_fd, sizeof a_fd, "%d", CF_REPORT_FD);
  snprintf(a_first, sizeof a_first, "%d", first);
  snprintf(a_last, sizeof a_last, "%d", last);
  char *argv[] = {"mlpbench",
                  "conform-child",
                  a_fd,
                  (char *)(lib ? lib : "-"),
                  (char *)(v ? v->be->name : "-"),
                  (char *)(v && v->path ? v->path : "-"),
                  (char *)(!v || v->ftz ? "1" : "0"),
                  a_first,
                  a_last,
                  NULL};
  cp_begin(st, first, last);
  fflush(NULL);
  if (child_start(c, "/proc/self/exe", argv, CF_REPORT_FD)) {
    snprintf(st->broke, sizeof st->broke, "cannot start a child: %s", strerror(errno));
    return 0;
  }
  int got, cut;
  while ((got = child_line(c, deadline, line, sizeof line, &cut)) == 1) {
    int check, status, k = cp_take(st, line, cut, &check, &status, msg, sizeof msg);
    if (k == CP_BACKEND && v && strcmp(st->name, v->be->name)) {
      snprintf(st->broke, sizeof st->broke,
               "it loaded backend '%s', not '%s' (was the plugin replaced?)", st->name,
               v->be->name);
      k = CP_BROKEN;
    }
    if (k == CP_RESULT) print_result(t, v, check, (cf_status)status, msg);
    if (k == CP_BROKEN) break;
    /* everything asked for is said: what the child does next (unloading, an exit handler
     * that hangs) is not waited for */
    if (st->got_backend && st->next >= last && st->current < 0) break;
  }
  child_finish(c);
  return got == 1 ? 0 : got;
}

/* Loads the plugin at lib in a child, to learn its backend. 0 with *b filled; 1 when it could
 * not be loaded (one FAILED line printed); -2 when we were asked to stop. */
static int probe(const char *lib, int limit, tally *t, cf_backend *b) {
  child_pipe c;
  cp_child st;
  double t0 = timer_now();
  int got = run_child(lib, NULL, 0, 0, t0 + limit, t, &c, &st);
  if (got == -2) return -2;
  if (st.got_backend && !st.broke[0]) {
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", st.name);
    snprintf(b->paths, sizeof b->paths, "%s", st.paths);
    snprintf(b->why, sizeof b->why, "%s", st.why);
    b->available = st.available;
    b->lib = lib;
    b->spent = timer_now() - t0;
    return 0;
  }
  char why[800], lab[64], *rep = repro(NULL, lib, NULL);
  why_ended(&c, &st, got, limit, why, sizeof why);
  const char *base = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
  term_text(lab, sizeof lab, base);
  print_line(t, lab, "load", CF_FAILED, why, rep);
  free(rep);
  return 1;
}

/* Checks [first, last) of one variant, a fresh child after each one that died. 0, 1 when a
 * hang spent the deadline (the rest is SKIPPED), -2 on a stop. */
static int check_variant(const cf_variant *v, int first, int last, double deadline, int limit,
                         tally *t) {
  while (first < last) {
    child_pipe c;
    cp_child st;
    int got = run_child(v->be->lib, v, first, last, deadline, t, &c, &st);
    if (got == -2) return -2;
    if (st.next >= last && !st.broke[0]) return 0;
    char why[800];
    why_ended(&c, &st, got, limit, why, sizeof why);
    int died = st.current >= 0 ? st.current : st.next;
    /* nothing of the backend ran (it did not load, or no longer loads): each check it was
     * given is FAILED for that, and no fresh child would fare better */
    int to = !st.got_backend || st.error[0] ? last : died + 1;
    for (int i = died; i < to; i++)
      print_result(t, v, i, CF_FAILED, why);
    if (got == -1) { /* a hang spent the backend's time: one bad backend costs one limit */
      for (int i = to; i < last; i++)
        print_result(t, v, i, CF_SKIPPED, "an earlier check of this backend timed out");
      return 1;
    }
    first = to;
  }
  return 0;
}

/* The backends the options name (or every available one), from the built-in ones and those
 * the plugins' children named. -1: usage error (printed); *worst: EXIT_RUNTIME when a named
 * one is unavailable. */
static int pick(const cli_opts *o, cf_backend *all, int n_all, int load_failed, int *sel,
                int *worst) {
  int n = 0;
  if (!o->backends || strcmp(o->backends, "all") == 0) {
    /* every backend this build has, emulated ones included: conform proves, it does not time */
    for (int i = 0; i < n_all; i++)
      if (all[i].available) sel[n++] = i;
    return n;
  }
  char list[256];
  snprintf(list, sizeof list, "%s", o->backends); /* cli_parse bounded it */
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    int k = -1;
    for (int i = 0; i < n_all && k < 0; i++)
      if (strcmp(all[i].name, tok) == 0) k = i;
    if (k < 0 && load_failed) { /* the FAILED load line says why */
      fprintf(stderr,
              "mlpbench conform: no backend '%s' (a plugin that failed to load may hold it)\n",
              TERM_TEXT(tok));
      continue;
    }
    if (k < 0) {
      fprintf(stderr, "mlpbench conform: unknown backend '%s' (see mlpbench list)\n",
              TERM_TEXT(tok));
      return -1;
    }
    int dup = 0;
    for (int i = 0; i < n; i++)
      dup |= sel[i] == k;
    if (dup) continue;
    if (!all[k].available) {
      fprintf(stderr, "mlpbench conform: backend %s unavailable: %s\n", all[k].name, all[k].why);
      *worst = EXIT_RUNTIME;
      continue;
    }
    sel[n++] = k;
  }
  return n;
}

/* comma list `list` holds `name` */
static int list_has(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *s = list; s && *s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
    if (strncmp(s, name, n) == 0 && (s[n] == ',' || s[n] == '\0')) return 1;
  return 0;
}

/* Every variant of b the options ask for, checked under one deadline. 0, or -2 on a stop. */
static int check_backend(const cf_backend *b, const cli_opts *o, int only, int limit, tally *t) {
  const int first = only >= 0 ? only : 0, last = only >= 0 ? only + 1 : conform_count();
  const double deadline = timer_now() - b->spent + limit;
  char paths[128], *save = NULL;
  const char *list[64];
  int n_paths = 0, hung = 0;
  snprintf(paths, sizeof paths, "%s", b->paths);
  for (char *tok = strtok_r(paths, ",", &save); tok && n_paths < 64;
       tok = strtok_r(NULL, ",", &save))
    if (!o->plan.opts.path || strcmp(o->plan.opts.path, tok) == 0) list[n_paths++] = tok;
  if (!b->paths[0]) list[n_paths++] = NULL;
  for (int p = 0; p < n_paths; p++)
    for (int f = 1; f >= 0; f--) {
      if ((f && !o->plan.opts.ftz) || (!f && o->ftz_only)) continue;
      cf_variant v = {.be = b, .path = list[p], .ftz = f};
      if (hung) {
        for (int i = first; i < last; i++)
          print_result(t, &v, i, CF_SKIPPED, "an earlier check of this backend timed out");
        continue;
      }
      int rc = check_variant(&v, first, last, deadline, limit, t);
      if (rc == -2) return -2;
      hung = rc == 1;
    }
  return 0;
}

static void help(void) {
  cli_print_help(
      "conform", conform_allowed,
      "Checks every backend (or those named; by default every available one, emulated ones "
      "included)\nagainst the float64 reference, each declared code path with FTZ/DAZ on and "
      "off: each check prints\nPASSED, FAILED (why, and a command that repeats it), NOT "
      "SUPPORTED or SKIPPED; exit 1 when one\nfailed, 3 when a backend named is unavailable. "
      "Plugins are loaded only in child processes, each\nbackend's under one --time-limit.");
  printf("\nchecks:\n");
  for (int i = 0; i < conform_count(); i++)
    printf("  %s\n", conform_name(i));
}

int cmd_conform(int argc, char **argv) {
  cli_opts o;
  plugins_defer(); /* --backend-lib paths are kept, never loaded here */
  int rc = cli_parse(argc, argv, "conform", conform_allowed, &o);
  if (rc) {
    if (rc < 0) help();
    return rc < 0 ? EXIT_OK : rc;
  }
  if ((rc = opt_prepare(&o))) return rc; /* deferred: the paths checked and kept */
  int only = -1;
  if (o.check && (only = conform_find(o.check)) < 0) {
    fprintf(stderr, "mlpbench conform: no check '%s' (mlpbench conform --help lists them)\n",
            TERM_TEXT(o.check));
    return EXIT_USAGE;
  }
  if (o.ftz_only && !o.plan.opts.ftz) {
    fprintf(stderr, "mlpbench conform: --ftz and --no-ftz exclude each other\n");
    return EXIT_USAGE;
  }
  interrupt_install();
  const int limit = o.time_limit ? o.time_limit : 120;
  /* every backend, built-in or plugin: as many as were named, no cap */
  const int cap = registry_builtin_count() + plugins_count();
  cf_backend *all = calloc((size_t)cap, sizeof *all);
  int *sel = calloc((size_t)cap, sizeof *sel);
  int n_all = 0, load_failed = 0, worst = EXIT_OK;
  tally t = {0};
  if (!all || !sel) {
    fprintf(stderr, "mlpbench conform: out of memory\n");
    free(all), free(sel);
    return EXIT_RUNTIME;
  }
  for (int i = 0; i < registry_builtin_count(); i++) {
    const mlp_backend *be = registry_get(i);
    cf_backend *b = &all[n_all++];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", be->name);
    snprintf(b->paths, sizeof b->paths, "%s", be_props(be)->paths ? be_props(be)->paths : "");
    b->available = be_available(be, b->why, sizeof b->why);
  }
  for (int i = 0; i < plugins_count(); i++) {
    cf_backend *b = &all[n_all];
    int r = probe(plugins_path(i), limit, &t, b);
    if (r == -2) goto stopped;
    for (int k = 0; !r && k < n_all; k++)
      if (strcmp(all[k].name, b->name) == 0) {
        char *rep = repro(NULL, b->lib, NULL), why[PATH_MAX + 128];
        snprintf(why, sizeof why, "its backend name '%s' is taken (by %s)", b->name,
                 all[k].lib ? TERM_TEXT(all[k].lib) : "a built-in backend");
        print_line(&t, b->name, "load", CF_FAILED, why, rep);
        free(rep);
        r = 1;
      }
    if (r)
      load_failed = 1;
    else
      n_all++;
  }
  int n = pick(&o, all, n_all, load_failed, sel, &worst);
  if (n < 0) {
    rc = EXIT_USAGE;
    goto out;
  }
  if (o.plan.opts
          .path) { /* as bench's --path: every chosen backend with paths offers it, and one does */
    int takers = 0;
    for (int i = 0; i < n; i++) {
      const cf_backend *b = &all[sel[i]];
      if (!b->paths[0]) continue;
      takers++;
      if (!list_has(b->paths, o.plan.opts.path)) {
        fprintf(stderr, "mlpbench conform: backend %s has no path '%s' (its paths: %s)\n", b->name,
                TERM_TEXT(o.plan.opts.path), b->paths);
        rc = EXIT_USAGE;
        goto out;
      }
    }
    if (!takers) {
      fprintf(stderr,
              "mlpbench conform: --path %s: none of the chosen backends offers a choice of path\n",
              TERM_TEXT(o.plan.opts.path));
      rc = EXIT_USAGE;
      goto out;
    }
  }
  if (n == 0 && !t.failed) {
    fprintf(stderr, "mlpbench conform: no available backend to check\n");
    rc = EXIT_RUNTIME;
    goto out;
  }
  for (int i = 0; i < n; i++)
    if (check_backend(&all[sel[i]], &o, only, limit, &t) == -2) goto stopped;
  printf("\nconform: %d passed, %d failed, %d not supported, %d skipped (%d backend%s)\n", t.passed,
         t.failed, t.unsupported, t.skipped, n, n == 1 ? "" : "s");
  rc = t.failed ? EXIT_CHECK : EXIT_OK;
  rc = worst > rc ? worst : rc;
out:
  free(all), free(sel);
  return rc;
stopped:
  fprintf(stderr, "mlpbench conform: stopped by signal %d; its child was killed\n",
          (int)mlpb_stop_signal);
  free(all), free(sel);
  return interrupt_exit_code();
}

/* internal: `mlpbench conform-child FD LIB NAME PATH FTZ FIRST LAST`: loads the plugin LIB
 * ("-": none), names backend NAME ("-": the plugin's) on the report pipe at FD, then runs its
 * checks [FIRST, LAST) with code path PATH ("-": the default) and FTZ 0|1. */
int cmd_conform_child(int argc, char **argv) {
  char err[1024];
  if (argc != 8) return EXIT_USAGE;
  int fd0 = atoi(argv[1]);
  if (fd0 < 3 || fcntl(fd0, F_GETFD) < 0) return EXIT_USAGE;
  /* high and close-on-exec: out of the way of descriptors a plugin opens and closes, and not
   * inherited by a program it runs */
  int fd = fcntl(fd0, F_DUPFD_CLOEXEC, 100);
  if (fd >= 0)
    close(fd0);
  else
    fcntl(fd = fd0, F_SETFD, FD_CLOEXEC);
  FILE *f = fdopen(fd, "w");
  if (!f) return EXIT_RUNTIME;
  /* an exit() inside the plugin ends this child as it chose: the parent reports how */
  guard_exit_arm(0);
  const char *lib = argv[2], *name = argv[3], *path = argv[4];
  int first = atoi(argv[6]), last = atoi(argv[7]), failed = 0;
  const mlp_backend *be = NULL;
  if (strcmp(lib, "-")) {
    if (plugins_load(lib, err, sizeof err)) {
      cp_send_error(f, err);
      return EXIT_RUNTIME;
    }
    be = registry_get(registry_count() - 1); /* the one plugin loaded */
  } else {
    be = registry_find(name);
  }
  if (!be || (strcmp(name, "-") && strcmp(name, be->name))) {
    snprintf(err, sizeof err, "no backend '%s' here", name);
    cp_send_error(f, err);
    return EXIT_RUNTIME;
  }
  char why[256] = "";
  int avail = be_available(be, why, sizeof why);
  const char *paths = be_props(be)->paths;
  if (paths && !cp_paths_ok(paths)) {
    snprintf(err, sizeof err,
             "its declared code paths '%s' are not comma-separated names of [a-z0-9_-]", paths);
    cp_send_error(f, err);
    return EXIT_RUNTIME;
  }
  cp_send_backend(f, be->name, avail, paths ? paths : "", why);
  if (first < 0 || last > conform_count()) return EXIT_USAGE;
  mlp_options opt = {.ftz = strcmp(argv[5], "0") != 0, .path = strcmp(path, "-") ? path : NULL};
  for (int i = first; i < last; i++)
    failed += conform_run(be, i, &opt, f);
  fclose(f);
  return failed ? EXIT_CHECK : EXIT_OK;
}
