/* conform_proto.h: what a `conform` child tells its parent, and the parent's reading of it.
 *
 * The child writes one line per event on its private report pipe (child_pipe.h), fields
 * separated by tabs:
 *   B NAME AVAILABLE PATHS WHY   first of all: the backend it loaded (AVAILABLE 0|1; PATHS
 *                                its declared code paths, comma-separated, or empty)
 *   S CHECK                      check number CHECK starts
 *   R CHECK STATUS MESSAGE       its result (STATUS: a cf_status number)
 *   E MESSAGE                    instead of B: it could not load or find the backend
 * The parent trusts none of it: every line is checked against the order above and the checks
 * it gave the child, and a line that breaks it ends the child as a failure. */
#ifndef MLPB_CONFORM_PROTO_H
#define MLPB_CONFORM_PROTO_H

#include <stdio.h>

#include "../../impls/mlp_backend.h"

/* ---- the child's side ---- */
void cp_send_backend(FILE *f, const char *name, int available, const char *paths, const char *why);
void cp_send_start(FILE *f, int check);
void cp_send_result(FILE *f, int check, int status, const char *msg);
void cp_send_error(FILE *f, const char *msg);

/* 1 when paths (mlp_props.paths) is empty or comma-separated names of [a-z0-9_-] */
int cp_paths_ok(const char *paths);

/* ---- the parent's side ---- */
typedef struct {
  int first, last; /* the checks given to this child: [first, last) */
  int got_backend; /* its B line came */
  char name[MLP_NAME_MAX + 1], paths[128], why[256];
  int available;
  int current;     /* the check started and not yet reported, or -1 */
  int next;        /* the next check it may start */
  char error[512]; /* its E line, made safe to print */
  char broke[160]; /* how it broke the protocol, or "" */
} cp_child;

void cp_begin(cp_child *c, int first, int last);

/* What one line was. */
enum { CP_NOTHING, CP_BACKEND, CP_RESULT, CP_ERROR, CP_BROKEN };

/* Takes one line (cut: it did not fit whole). CP_RESULT fills *check, *status and msg (made
 * safe to print, at most len bytes); CP_BROKEN sets c->broke, and the child is to be ended. */
int cp_take(cp_child *c, const char *line, int cut, int *check, int *status, char *msg, size_t len);

#endif
