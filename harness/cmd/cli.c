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

#include "../backends/be_handle.h"
#include "../backends/names.h"
#include "../backends/peer_names.h"
#include "../backends/plugins.h"
#include "../backends/registry.h"
#include "../output/results.h"
#include "../sys/term_text.h"

int cli_option_count(void) {
  return opt_count();
}

const char *cli_option(int i, int *key, int *has_arg) {
  *key = opt_get(i)->key;
  *has_arg = opt_get(i)->type != OPT_FLAG;
  return opt_get(i)->name;
}

/* Every command that names backends (and list, which shows them) loads plugins. */
static const char *with_libs(const char *cmd, const char *allowed, char *buf, size_t len) {
  if (!strchr(allowed, 'b') && strcmp(cmd, "list")) return allowed;
  snprintf(buf, len, "%sL", allowed);
  return buf;
}

/* The default of a workload setting, from each workload's registry entry. */
static void print_workload_defaults(const opt_def *d) {
  const char *sep = " (";
  for (int k = 0; k < workload_count(); k++) {
    const wl_entry *e = workload_get(k);
    const wl_config *c = e->defaults;
    char v[32] = "";
    if (!(e->takes & d->wl)) {
      printf("%s%s: not taken", sep, e->name);
      sep = ", ";
      continue;
    }
    if (d->wl == WL_TAKES_EPOCHS) snprintf(v, sizeof v, "%d", c->epochs);
    if (d->wl == WL_TAKES_BATCH) snprintf(v, sizeof v, "%d", c->batch);
    if (d->wl == WL_TAKES_HIDDEN) snprintf(v, sizeof v, "%d", c->hidden);
    if (d->wl == WL_TAKES_LR) snprintf(v, sizeof v, "%g", (double)c->lr);
    if (!v[0]) continue;
    printf("%s%s %s", sep, e->name, v);
    sep = ", ";
  }
  if (strcmp(sep, " (")) printf(")");
}

void cli_print_usage(const char *cmd, const char *operands, const char *allowed,
                     const char *synopsis) {
  char eff[128];
  allowed = with_libs(cmd, allowed, eff, sizeof eff);
  printf("usage: mlpbench %s%s%s [options]\n%s\n\noptions:\n", cmd, operands ? " " : "",
         operands ? operands : "", synopsis);
  for (int i = 0; i < opt_count(); i++) {
    const opt_def *d = opt_get(i);
    if (!strchr(allowed, d->key)) continue;
    char left[48];
    snprintf(left, sizeof left, "-%c, --%s%s%s", d->key, d->name, d->arg ? " " : "",
             d->arg ? d->arg : "");
    printf("  %-26s %s", left, d->help);
    if (d->dflt) printf(" (%s)", d->dflt);
    if (d->wl & (WL_TAKES_EPOCHS | WL_TAKES_BATCH | WL_TAKES_HIDDEN | WL_TAKES_LR))
      print_workload_defaults(d);
    if (d->key == 'w') /* the names come from the registry, so a new one needs no edit */
      for (int k = 0; k < workload_count(); k++)
        printf("%s%s%s", k ? ", " : ": ", workload_get(k)->name,
               workload_get(k)->in_all ? "" : " (not in all)");
    printf("\n");
  }
  printf("  %-26s %s\n", "-h, --help", "this help");
  if (!strstr(synopsis, "exit codes:"))
    printf("\nexit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 runtime failure\n");
}

void cli_print_help(const char *cmd, const char *allowed, const char *synopsis) {
  cli_print_usage(cmd, NULL, allowed, synopsis);
}

int cli_parse_args(int argc, char **argv, const char *cmd, const char *allowed, int max_args,
                   cli_opts *o) {
  int n = opt_count();
  struct option longs[n + 3]; /* the command's options, help, the cuda-path alias, the end */
  char shorts[3 * n + 4];
  int nl = 0, ns = 0;
  char eff[128];
  allowed = with_libs(cmd, allowed, eff, sizeof eff);
  opt_init(o, cmd);
  o->plan.quiet = !isatty(2);
  o->load_libs = strchr(allowed, 'L') != NULL;
  o->notes = 1;
  if (!max_args) shorts[ns++] = '+'; /* no operands: stop at the first, to name it */
  for (int i = 0; i < n; i++) {
    const opt_def *d = opt_get(i);
    if (!strchr(allowed, d->key)) continue;
    longs[nl++] = (struct option){d->name, d->type != OPT_FLAG, NULL, d->key};
    shorts[ns++] = (char)d->key;
    if (d->type != OPT_FLAG) shorts[ns++] = ':';
  }
  longs[nl++] = (struct option){"help", 0, NULL, 'h'};
  shorts[ns++] = 'h';
  shorts[ns] = '\0';
  if (strchr(allowed, 'C')) /* the spelling, kept as an alias */
    longs[nl++] = (struct option){"cuda-path", 1, NULL, 'C'};
  longs[nl] = (struct option){0};
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
    if (opt_set(o, opt_by_key(c), optarg)) return EXIT_USAGE;
  }
  o->args = argv + optind; /* getopt moved the operands after the options */
  o->n_args = argc - optind;
  if (o->n_args > max_args) {
    const char *extra = argv[optind + max_args];
    if (max_args == 1)
      fprintf(stderr, "mlpbench %s: a second file '%s': %s takes one (see mlpbench %s --help)\n",
              cmd, TERM_TEXT(extra), cmd, cmd);
    else
      fprintf(stderr, "mlpbench %s: unexpected argument '%s' (see mlpbench %s --help)\n", cmd,
              TERM_TEXT(extra), cmd);
    return EXIT_USAGE;
  }
  /* a command that runs a math library runs its best kernel unless told otherwise
   * (--blas-kernel default keeps the library's own choice) */
  if (strchr(allowed, 'K') && !o->blas_kernel) o->blas_kernel = "auto";
  return 0;
}

int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, cli_opts *o) {
  return cli_parse_args(argc, argv, cmd, allowed, 0, o);
}

int cli_begin(const cli_command *c, int argc, char **argv, cli_opts *o, int *rc) {
  *rc = cli_parse_args(argc, argv, c->name, c->allowed, c->max_args ? c->max_args : argc, o);
  if (*rc < 0) cli_print_usage(c->name, c->operands, c->allowed, c->synopsis);
  if (*rc) {
    *rc = *rc < 0 ? EXIT_OK : *rc;
    return 1;
  }
  if (o->n_args < c->min_args) {
    fprintf(stderr, "mlpbench %s: needs %s (see mlpbench %s --help)\n", c->name, c->operands,
            c->name);
    *rc = EXIT_USAGE;
    return 1;
  }
  return 0;
}

int cli_plan(cli_opts *o, const char *default_workload, run_plan *p, int *worst) {
  int rc = opt_plan(o, default_workload, worst);
  *p = o->plan;
  return rc;
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
int cli_apply_tuning(cli_opts *o) {
  char name[64], value[64], err[256], set[256] = "";
  int rc = opt_prepare(o);
  if (rc || getenv("MLPBENCH_REEXEC")) return rc;
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
  if (!kernel && !set[0]) return 0;
  /* the re-run process records who chose its kernel (cli_kernel_chooser) and its waits */
  setenv("MLPBENCH_REEXEC",
         !kernel                               ? "wait"
         : strcmp(o->blas_kernel, "auto") == 0 ? "auto"
                                               : "user",
         1);
  if (set[0]) setenv("MLPBENCH_WAIT_SET", set, 1);
  fflush(NULL);
  /* where the command started: a plugin may have moved this process (its relative outputs
   * are resolved again by the re-run, before it loads any plugin) */
  if (o->cwd[0] && chdir(o->cwd) != 0)
    fprintf(stderr, "mlpbench: cannot return to %s (%s)\n", TERM_TEXT(o->cwd), strerror(errno));
  execv("/proc/self/exe", cli_argv);
  fprintf(stderr, "mlpbench: could not re-run itself (%s); continuing as it is\n", strerror(errno));
  /* the libraries loaded with the old environment: claim nothing they did not get */
  unsetenv("MLPBENCH_REEXEC");
  unsetenv("MLPBENCH_WAIT_SET");
  for (char *save = NULL, *v = strtok_r(set, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
    *strchr(v, '=') = '\0';
    unsetenv(v);
  }
  return 0;
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
