/* names.h: the names rows and series are keyed by (backends and peers share the rows' column,
 * workloads name the series), checked once at start-up: a name too long for the reports'
 * fields, outside [a-z0-9_-], or given twice would otherwise be cut, or two things would be
 * counted as one, with nothing said. */
#ifndef MLPB_NAMES_H
#define MLPB_NAMES_H

#include <stddef.h>

/* 0 when each of names[0..n) is 1..max characters of [a-z0-9_-], starting with a letter, and
 * no two are equal; else -1 with the first offence in err ("backend 'X': ..."). */
/* The candidate one or two typing slips away from s ("studnet" -> "student"), or NULL. */
const char *names_nearest(const char *s, const char *const *cands, int n);

int names_check(const char *const *names, int n, int max, const char *what, char *err, size_t len);

/* The built-in tables: backends with peers, then workloads. */
int names_check_registries(char *err, size_t len);

#endif
