/* be_handle.h: one live backend: the table, its context and the spec it was made for. Every
 * harness module that drives a backend opens one of these (the tests call the tables
 * directly). be_open passes a path request only to backends that offer paths; be_sync is a
 * no-op without a sync slot; the other optional slots are checked where they are used. */
#ifndef MLPB_BE_HANDLE_H
#define MLPB_BE_HANDLE_H

#include <stddef.h>

#include "../../impls/mlp_backend.h"

typedef struct {
  const mlp_backend *be;
  void *ctx;
  mlp_spec spec;
  const void *dataset; /* the training split set_dataset last took (the trainer's), or NULL */
  int resident;        /* and whether the backend kept it (0: declined) */
} be_handle;

/* Creates the context; 0, or -1 with "name: why" in err. */
int be_open(be_handle *h, const mlp_backend *be, const mlp_spec *spec, const mlp_options *opt,
            char *err, size_t len);
void be_close(be_handle *h);
/* Waits for queued work; a no-op for backends without a sync slot. */
int be_sync(be_handle *h);
const char *be_error(const be_handle *h);
/* The threads the backend's next calls use (1 to those it was created with): 0, or -1 when
 * the backend's threads are fixed (no set_threads slot) or it refused. */
int be_set_threads(be_handle *h, int threads);
/* The backend's properties; all zero when it declares none. */
const mlp_props *be_props(const mlp_backend *be);

#endif
