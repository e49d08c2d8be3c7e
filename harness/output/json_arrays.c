#define _GNU_SOURCE
#include "json_arrays.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "mlpbench-decoded-array"

/* A JSON number at p (RFC 8259's grammar, which strtod's is wider than): its length, or 0.
 * Integers jansson would refuse as too big (19 digits or more) are left to it too. */
static size_t number_len(const char *p, const char *end) {
  const char *q = p;
  if (q < end && *q == '-') q++;
  const char *digits = q;
  if (q < end && *q == '0')
    q++;
  else
    while (q < end && *q >= '0' && *q <= '9')
      q++;
  if (q == digits) return 0;
  int is_int = 1;
  if (q < end && *q == '.') {
    const char *f = ++q;
    while (q < end && *q >= '0' && *q <= '9')
      q++;
    if (q == f) return 0;
    is_int = 0;
  }
  if (q < end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < end && (*q == '+' || *q == '-')) q++;
    const char *e = q;
    while (q < end && *q >= '0' && *q <= '9')
      q++;
    if (q == e) return 0;
    is_int = 0;
  }
  if (is_int && q - digits > 18) return 0;
  return (size_t)(q - p);
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The array opening at text[at]: decoded into *out (count into *cnt) and its end (one past
 * ']') returned; 0 when it is not an array of numbers and nulls, or holds too few. */
static size_t decode(const char *text, size_t n, size_t at, double **out, size_t *cnt) {
  const char *p = text + at + 1, *end = text + n;
  size_t have = 0, cap = 0;
  double *v = NULL;
  *out = NULL;
  for (;;) {
    while (p < end && is_space(*p))
      p++;
    if (p < end && *p == ']' && have == 0) break; /* [] : too few anyway */
    double x;
    size_t len;
    if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
      x = NAN;
      len = 4;
    } else if ((len = number_len(p, end)) > 0) {
      char num[64];
      if (len >= sizeof num) goto not_ours;
      memcpy(num, p, len);
      num[len] = '\0';
      errno = 0;
      x = strtod(num, NULL);
      if (errno == ERANGE && isinf(x)) goto not_ours; /* jansson says "real number overflow" */
    } else {
      goto not_ours;
    }
    if (have == cap) {
      size_t nc = cap ? 2 * cap : 256;
      double *nv = realloc(v, nc * sizeof *nv);
      if (!nv) {
        free(v);
        *cnt = (size_t)-1; /* out of memory */
        return 0;
      }
      v = nv;
      cap = nc;
    }
    v[have++] = x;
    p += len;
    while (p < end && is_space(*p))
      p++;
    if (p < end && *p == ',') {
      p++;
      continue;
    }
    if (p < end && *p == ']') break;
    goto not_ours;
  }
  if (have < JSON_ARRAYS_MIN) goto not_ours;
  *out = v;
  *cnt = have;
  return (size_t)(p + 1 - text);
not_ours:
  free(v);
  *cnt = 0;
  return 0;
}

int json_arrays_extract(char *text, size_t n, json_arrays *t) {
  memset(t, 0, sizeof *t);
  if (memmem(text, n, KEY, strlen(KEY))) return 0; /* a file that names the key: all jansson's */
  int in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = text[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = 0;
      continue;
    }
    if (c == '"') {
      in_str = 1;
      continue;
    }
    if (c != '[') continue;
    double *v;
    size_t cnt, stop = decode(text, n, i, &v, &cnt);
    if (cnt == (size_t)-1) {
      json_arrays_free(t);
      return -1;
    }
    if (!stop) continue;
    char ph[64];
    int len = snprintf(ph, sizeof ph, "{\"" KEY "\":%zu}", t->n);
    if (len < 0 || (size_t)len > stop - i || (t->n == t->cap && t->cap > ((size_t)-1) / 4)) {
      free(v);
      continue;
    }
    if (t->n == t->cap) {
      size_t nc = t->cap ? 2 * t->cap : 64;
      json_num_array *na = realloc(t->a, nc * sizeof *na);
      if (!na) {
        free(v);
        json_arrays_free(t);
        return -1;
      }
      t->a = na;
      t->cap = nc;
    }
    t->a[t->n++] = (json_num_array){v, cnt};
    /* the placeholder, then as many newlines as the array had (jansson counts lines), then
     * spaces */
    size_t lines = 0;
    for (size_t k = i; k < stop; k++)
      lines += text[k] == '\n';
    memcpy(text + i, ph, (size_t)len);
    size_t k = i + (size_t)len;
    for (; lines && k < stop; k++, lines--)
      text[k] = '\n';
    memset(text + k, ' ', stop - k);
    i = stop - 1;
  }
  return 0;
}

json_num_array *json_arrays_find(json_arrays *t, const json_t *v) {
  json_t *k = json_is_object(v) && json_object_size(v) == 1 ? json_object_get(v, KEY) : NULL;
  if (!t || !json_is_integer(k)) return NULL;
  json_int_t i = json_integer_value(k);
  if (i < 0 || (size_t)i >= t->n) return NULL;
  return &t->a[i];
}

void json_arrays_free(json_arrays *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->a[i].v);
  free(t->a);
  memset(t, 0, sizeof *t);
}
