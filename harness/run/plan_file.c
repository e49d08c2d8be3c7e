/* plan_file.c: a run plan as a file, written and read through the option table (options.c):
 * each option a plan carries is one key, its value in the option's own text, and reading it
 * back runs the very setters and the very planning of the command line, so a plan is checked
 * as a command line is. */
#include "plan_file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
#include "../output/results.h"
#include "options.h"

#define PLAN_SCHEMA "mlpbench-plan-3"

static json_t *jstr_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

int plan_write(const char *path, const run_plan *p, char *err, size_t len) {
  json_t *opts = json_object(), *j = json_pack("{s:s}", "schema", PLAN_SCHEMA);
  char buf[PATH_MAX + 64], list[PATH_MAX + 1024];
  for (int i = 0; opts && j && i < opt_count(); i++) {
    const opt_def *d = opt_get(i);
    if (!d->plan) continue;
    if (d->encode && d->type == OPT_MULTI) {
      json_t *a = json_array();
      for (int k = 0; d->encode(p, k, buf, sizeof buf); k++)
        json_array_append_new(a, json_string(buf));
      json_object_set_new(opts, d->name, a);
    } else if (d->encode) { /* a comma list, as the command line gives it */
      list[0] = '\0';
      for (int k = 0; d->encode(p, k, buf, sizeof buf); k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? "," : "", buf);
      if (strlen(list) + 1 >= sizeof list) { /* never a list cut short */
        snprintf(err, len, "%s: the plan's --%s list is too long", path, d->name);
        json_decref(opts);
        json_decref(j);
        return -1;
      }
      if (list[0]) json_object_set_new(opts, d->name, json_string(list));
    } else if (opt_plan_text(p, d, buf, sizeof buf)) {
      json_object_set_new(opts, d->name, d->type == OPT_FLAG ? json_true() : json_string(buf));
    }
  }
  if (j && opts) json_object_set_new(j, "options", opts), opts = NULL;
  if (j && p->peak.given) /* the machine peak the child reuses instead of measuring its own */
    json_object_set_new(j, "peak",
                        json_pack("{s:f, s:o, s:o, s:o}", "gflops", p->peak.gflops, "by",
                                  jstr_or_null(p->peak.by), "at", jstr_or_null(p->peak.at),
                                  "disturbed", jstr_or_null(p->peak.disturbed)));
  json_decref(opts);
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

/* What a read plan's values and strings live in, until plan_release: one process reads one
 * plan. */
static json_t *held;
static struct held_plan {
  opt_values o;
  char cmd[PATH_MAX + 64]; /* "bench-process: PLAN", for every message about it */
} * held_values;

void plan_release(void) {
  json_decref(held);
  free(held_values);
  held = NULL;
  held_values = NULL;
}

/* A plan value as the option's text: a string as it is, an integer or a number written out
 * whole (so a range check sees the value before any truncation), true for a flag. */
static int value_text(const json_t *v, char *buf, size_t len, const char **text) {
  if (json_is_string(v))
    *text = json_string_value(v);
  else if (json_is_integer(v))
    snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), *text = buf;
  else if (json_is_real(v))
    snprintf(buf, len, "%.17g", json_real_value(v)), *text = buf;
  else if (json_is_true(v))
    *text = NULL;
  else
    return -1;
  return 0;
}

int plan_read(const char *path, opt_values **out, char *err, size_t len) {
  char why[PATH_MAX + 256] = "", num[64];
  *out = NULL;
  plan_release();
  json_t *j = results_load_json(path, why, sizeof why); /* the same careful reader */
  json_t *opts = json_object_get(j, "options");
  const char *schema = json_string_value(json_object_get(j, "schema"));
  if (!j || !schema || strcmp(schema, PLAN_SCHEMA) || !json_is_object(opts)) {
    snprintf(err, len, "%s: not an mlpbench plan (%s)", path, j ? "schema" : why);
    json_decref(j);
    return -1;
  }
  held = j;
  if (!(held_values = malloc(sizeof *held_values))) {
    snprintf(err, len, "%s: out of memory", path);
    plan_release();
    return -1;
  }
  opt_values *o = &held_values->o;
  snprintf(held_values->cmd, sizeof held_values->cmd, "bench-process: %s", path);
  opt_init(o, held_values->cmd);
  json_t *nums = json_array(); /* the numbers' texts, held with the plan */
  json_object_set_new(j, "texts", nums);
  o->load_libs = 0; /* the parent's plugins are in the plan, the environment's included */
  err[0] = '\0';
  const char *key;
  json_t *v;
  json_object_foreach(opts, key, v) {
    const opt_def *d = NULL;
    for (int i = 0; i < opt_count() && !d; i++)
      if (opt_get(i)->plan && strcmp(opt_get(i)->name, key) == 0) d = opt_get(i);
    if (!d) {
      snprintf(err, len, "%s: option '%s' has no place in a plan", path, key);
      goto bad;
    }
    const char *text;
    int bad = 0;
    if (d->type == OPT_MULTI && json_is_array(v)) {
      for (size_t k = 0; k < json_array_size(v) && !bad; k++)
        bad = !json_is_string(json_array_get(v, k)) ||
              opt_set(o, d, json_string_value(json_array_get(v, k)));
    } else if (json_is_false(v) && d->type == OPT_FLAG) {
      continue; /* a flag not set */
    } else if (value_text(v, num, sizeof num, &text) || (!text && d->type != OPT_FLAG) ||
               (text && d->type == OPT_FLAG)) {
      snprintf(err, len, "%s: option '%s' has a value of the wrong kind", path, key);
      goto bad;
    } else {
      if (text == num) { /* a string option keeps its text: a number's is held too */
        json_array_append_new(nums, json_string(num));
        text = json_string_value(json_array_get(nums, json_array_size(nums) - 1));
      }
      bad = opt_set(o, d, text);
    }
    if (bad) goto bad; /* opt_set said why */
  }
  json_t *peak = json_object_get(j, "peak");
  if (json_is_object(peak) && json_is_number(json_object_get(peak, "gflops"))) {
    o->plan.peak.given = 1;
    o->plan.peak.gflops = json_number_value(json_object_get(peak, "gflops"));
    o->plan.peak.by = json_string_value(json_object_get(peak, "by"));
    o->plan.peak.at = json_string_value(json_object_get(peak, "at"));
    o->plan.peak.disturbed = json_string_value(json_object_get(peak, "disturbed"));
  }
  *out = o;
  return 0;
bad:
  if (!err[0]) snprintf(err, len, "%s: refused (see above)", path);
  plan_release();
  return -1;
}
