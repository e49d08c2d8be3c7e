#include "conform_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../backends/names.h"
#include "../sys/term_text.h"
#include "conform.h"

/* a field: no tab or line break of its own */
static void field(FILE *f, const char *s) {
  for (; s && *s; s++)
    fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

void cp_send_backend(FILE *f, const char *name, int available, const char *paths, const char *why) {
  fputs("B\t", f);
  field(f, name);
  fprintf(f, "\t%d\t", available ? 1 : 0);
  field(f, paths);
  fputc('\t', f);
  field(f, why);
  fputc('\n', f);
  fflush(f);
}

void cp_send_start(FILE *f, int check) {
  fprintf(f, "S\t%d\n", check);
  fflush(f);
}

void cp_send_result(FILE *f, int check, int status, const char *msg) {
  fprintf(f, "R\t%d\t%d\t", check, status);
  field(f, msg);
  fputc('\n', f);
  fflush(f);
}

void cp_send_error(FILE *f, const char *msg) {
  fputs("E\t", f);
  field(f, msg);
  fputc('\n', f);
  fflush(f);
}

int cp_paths_ok(const char *paths) {
  for (const char *p = paths; *p; p++)
    if (!(*p == ',' || *p == '-' || *p == '_' || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9')))
      return 0;
  return !paths[0] || !(paths[0] == ',' || paths[strlen(paths) - 1] == ',' || strstr(paths, ",,"));
}

void cp_begin(cp_child *c, int first, int last) {
  memset(c, 0, sizeof *c);
  c->first = c->next = first;
  c->last = last;
  c->current = -1;
}

static int broke(cp_child *c, const char *why) {
  snprintf(c->broke, sizeof c->broke, "%s", why);
  return CP_BROKEN;
}

/* a decimal int field ending at a tab or the end; *s moves past the tab */
static int int_field(const char **s, int lo, int hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(*s, &end, 10);
  if (end == *s || errno || (*end != '\t' && *end) || v < lo || v > hi || **s == ' ' || **s == '+')
    return -1;
  *out = (int)v;
  *s = *end ? end + 1 : end;
  return 0;
}

/* the next tab-separated field into out (len bytes, whole or -1) */
static int str_field(const char **s, char *out, size_t len) {
  size_t n = strcspn(*s, "\t");
  if (n >= len) return -1;
  memcpy(out, *s, n);
  out[n] = '\0';
  *s += n + ((*s)[n] == '\t');
  return 0;
}

int cp_take(cp_child *c, const char *line, int cut, int *check, int *status, char *msg,
            size_t len) {
  char raw[1024];
  if (cut) return broke(c, "a report line too long");
  if (!line[0] || line[1] != '\t') return broke(c, "a line that is no report");
  const char *s = line + 2;
  switch (line[0]) {
  case 'B': {
    char name[MLP_NAME_MAX + 1], why[256], paths[128];
    int avail;
    if (c->got_backend || c->error[0]) return broke(c, "a second B line");
    if (str_field(&s, name, sizeof name) || int_field(&s, 0, 1, &avail) ||
        str_field(&s, paths, sizeof paths) || str_field(&s, why, sizeof why) || *s)
      return broke(c, "a malformed B line");
    const char *np = name;
    char err[160];
    if (names_check(&np, 1, MLP_NAME_MAX, "its backend", err, sizeof err))
      return broke(c, "a backend name that breaks the naming rule");
    if (!cp_paths_ok(paths)) return broke(c, "paths that are not names of [a-z0-9_-]");
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->paths, sizeof c->paths, "%s", paths);
    term_text(c->why, sizeof c->why, why);
    c->available = avail;
    c->got_backend = 1;
    return CP_BACKEND;
  }
  case 'E':
    if (c->got_backend || c->error[0]) return broke(c, "an E line after the backend was named");
    snprintf(raw, sizeof raw, "%s", s);
    term_text(c->error, sizeof c->error, raw[0] ? raw : "(no reason given)");
    return CP_ERROR;
  case 'S': {
    int k;
    if (!c->got_backend) return broke(c, "a check started before the backend was named");
    if (int_field(&s, 0, INT_MAX, &k) || *s) return broke(c, "a malformed S line");
    if (c->current >= 0) return broke(c, "a check started before the last one was reported");
    if (k != c->next || k >= c->last) return broke(c, "a check started out of turn");
    c->current = k;
    return CP_NOTHING;
  }
  case 'R': {
    int k, st;
    if (int_field(&s, 0, INT_MAX, &k) || int_field(&s, CF_PASSED, CF_SKIPPED, &st))
      return broke(c, "a malformed R line");
    if (c->current < 0 || k != c->current) return broke(c, "a result for a check not started");
    c->current = -1;
    c->next = k + 1;
    *check = k;
    *status = st;
    snprintf(raw, sizeof raw, "%s", s);
    term_text(msg, len, raw);
    return CP_RESULT;
  }
  default:
    return broke(c, "a line that is no report");
  }
}
