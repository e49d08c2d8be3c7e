/* options.h: every option of every command in one table: its name, type, range, default, help
 * and the field it fills. The command line (cmd/cli.c) and a bench-process plan file
 * (plan_file.c) both set values through opt_set and make a plan through opt_plan, so a value
 * is checked by the same code whichever way it came, and each range is written once.
 * Parsing only records: plugins are loaded, --blas-kernel asked of the backends and the
 * outputs resolved by opt_prepare, after parsing. */
#ifndef MLPB_OPTIONS_H
#define MLPB_OPTIONS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define OPT_MAX_MULTI 64 /* values of a repeatable option (--backend-lib, --history) */

typedef struct {
  const char *v[OPT_MAX_MULTI];
  int n;
} opt_multi;

typedef enum {
  OPT_FLAG,     /* no value: sets its int field to lo (the field starts at !lo) */
  OPT_INT,      /* an int in lo..hi */
  OPT_U64,      /* an unsigned 64-bit integer (the seed) */
  OPT_LR,       /* a positive float that fp32 holds; sets wl.lr_set */
  OPT_FRACTION, /* a double in (0, 1) */
  OPT_STR,      /* text, kept as given */
  OPT_ENUM,     /* one of choices; the int field holds its index */
  OPT_LIST,     /* comma list: no empty or repeated name, at most hi, each known when asked */
  OPT_MULTI,    /* repeatable: each value appended to an opt_multi */
} opt_type;

/* The values of one command: the run plan's settings filled in place, and the rest. */
typedef struct {
  const char *cmd;                         /* for messages: "bench", "bench-process: PLAN" */
  run_plan plan;                           /* settings; lists resolved by opt_plan */
  const char *backends, *workload, *peers; /* comma lists */
  opt_multi libs;                          /* --backend-lib */
  int load_libs;                           /* the command loads plugins (MLPBENCH_BACKEND_LIBS) */
  int notes; /* say where a setting does not apply (a command line; a plan is quiet) */
  const char *blas_kernel;
  const char *out; /* --out: export-png's folder; compare's, report's, export's file */
  const char *check;
  int time_limit, ftz_only;
  double alpha, min_effect;
  int table_format; /* compare --format: 0 md, 1 json */
  int metric_cpu, force, paired, allow_inconclusive, fail_on_step, since;
  opt_multi history;
  const char *images;
  char **args; /* operands (files), after the options */
  int n_args;
  unsigned char given[64]; /* given[i]: table entry i was set (not by its default) */
  int prepared;
  char abs[3][PATH_MAX]; /* the outputs made absolute: results, markdown, plots */
  char cwd[PATH_MAX];    /* the folder the command started in ("": unknown), for a re-run */
} opt_values;

typedef struct {
  int key; /* its letter, for a command's `allowed` string and the short form */
  const char *name;
  opt_type type;
  long lo, hi;
  const char *dflt; /* set before parsing; NULL: none (0, or the workload's) */
  const char *arg, *help;
  size_t off;                            /* the field it fills, in opt_values */
  const char *const *choices;            /* OPT_ENUM */
  int (*known)(const char *);            /* OPT_LIST: each name must be known */
  const char *(*check)(const char *arg); /* a further rule on the text: why not, or NULL */
  unsigned wl; /* WL_TAKES_*: a workload setting, refused where not taken */
  int plan;    /* carried by a bench-process plan file */
  /* OPT_LIST/OPT_MULTI in a plan file: item i of a plan (1), or 0 past the last */
  int (*encode)(const run_plan *p, int i, char *buf, size_t len);
} opt_def;

int opt_count(void);
const opt_def *opt_get(int i);
const opt_def *opt_by_key(int key);

/* Every field at its default (the table's dflt, run through opt_set). */
void opt_init(opt_values *o, const char *cmd);
/* Sets option d from its text (NULL for a flag); 0, or -1 after one message on stderr. */
int opt_set(opt_values *o, const opt_def *d, const char *arg);
/* The text of d's value in plan p, for a plan file: 1 when it differs from the default (buf
 * filled; a flag: "1"), 0 when the default holds. Not for OPT_LIST/OPT_MULTI (d->encode). */
int opt_plan_text(const run_plan *p, const opt_def *d, char *buf, size_t len);

/* After parsing, before anything runs: the output paths made absolute and checked (their
 * folders created), so no plugin's chdir can move them; then the plugins loaded and
 * --blas-kernel asked of the backends. Once; 0, or EXIT_USAGE after a message. */
int opt_prepare(opt_values *o);
/* opt_prepare, then the plan: backends (unknown names: usage errors; unavailable ones named
 * explicitly are reported, skipped, and *worst becomes EXIT_RUNTIME), --path, workloads
 * (--workload, else default_workload; "all": every workload the registry puts in all), the
 * options each takes, peers. 0, or EXIT_USAGE after a message. */
int opt_plan(opt_values *o, const char *default_workload, int *worst);

/* The workload settings of plan p as workload e is built with them: an option e does not take
 * under --workload all is left at its default. */
wl_config opt_wl_config(const run_plan *p, const wl_entry *e);

#endif
