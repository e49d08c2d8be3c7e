/* be_handle.h: one live backend (the table, its context and the spec it was made for), and
 * the one way the harness reaches a backend's optional slots.
 *
 * Every optional slot has one wrapper here, which answers for a backend that leaves it NULL
 * (be_sync: nothing queued; be_path: ""; be_gemm_floor: BE_ABSENT, ...), so no other module
 * tests a slot by hand: it asks be_offers() whether a slot is there, or calls the wrapper.
 * Each wrapper passes the table itself to the slots without a context (ABI 3's `self`). */
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

/* What a wrapper returns for a slot the backend leaves NULL (never a slot's own answer). */
#define BE_ABSENT 2

/* The optional slots, for be_offers. */
typedef enum {
  BE_DESCRIBE,
  BE_RESIDENT, /* set_dataset and train_steps (a table has both or neither) */
  BE_SYNC,
  BE_GEMM_FLOOR,
  BE_STEP_FLOOR,
  BE_DEVICE_MEMORY,
  BE_PATH,
  BE_LIBRARY,
  BE_ADVICE,
  BE_TUNED_ENV,
  BE_PEAK_GFLOPS,
  BE_SET_THREADS,
} be_slot;

/* 1 when the backend fills the slot. */
int be_offers(const mlp_backend *be, be_slot slot);

/* ---- the table: slots without a context ---- */
int be_available(const mlp_backend *be, char *why, size_t len);
/* The backend's description, "" when it gives none; ctx: a live context or NULL. */
void be_describe(const mlp_backend *be, void *ctx, char *buf, size_t len);
/* 0 and *out, or -1 when the backend names no library. */
int be_library(const mlp_backend *be, mlp_library *out);
/* 1 and a warning about this machine's environment, or 0. */
int be_advice(const mlp_backend *be, char *buf, size_t len);
/* tuned_env's answer (1 set name=value, 0 nothing, -1 unknown request); 0 without the slot. */
int be_tuned_env(const mlp_backend *be, const char *request, char *name, size_t nlen, char *value,
                 size_t vlen, char *err, size_t elen);
/* The wait policy its library's threads need, or NULL. */
const mlp_wait_policy *be_wait_policy(const mlp_backend *be);
/* peak_gflops' answer (0, or -1 and err), or BE_ABSENT. */
int be_peak_gflops(const mlp_backend *be, const mlp_options *opt, double budget_s, double *gflops,
                   char *desc, size_t dlen, char *err, size_t elen);
/* The backend's properties; all zero when it declares none. */
const mlp_props *be_props(const mlp_backend *be);

/* ---- a live context ---- */
/* Creates the context; 0, or -1 with "name: why" in err. */
int be_open(be_handle *h, const mlp_backend *be, const mlp_spec *spec, const mlp_options *opt,
            char *err, size_t len);
void be_close(be_handle *h);
const char *be_error(const be_handle *h);
/* Waits for queued work; 0 for backends without a sync slot (nothing ever queued). */
int be_sync(be_handle *h);
/* set_dataset's answer (0 kept, 1 declined, < 0 failed); 1 without the resident slots. */
int be_set_dataset(be_handle *h, const float *x, const int32_t *labels, const float *targets,
                   int n);
/* train_steps' answer; -1 without the slots (be_set_dataset declined for them). */
int be_train_steps(be_handle *h, const int32_t *idx, int n_idx, int batch, int zero_grad,
                   mlp_steps_out *out);
/* The floors' answers (0, or -1), or BE_ABSENT. */
int be_gemm_floor(be_handle *h, int batch, int steps, double *seconds);
int be_step_floor(be_handle *h, int batch, int steps, double *seconds);
/* device_memory's answer (0, or -1), or BE_ABSENT. */
int be_device_memory(be_handle *h, double *bytes);
/* The code path the context runs, "" when the backend does not say. */
void be_path(be_handle *h, char *buf, size_t len);
/* The threads the backend's next calls use (1 to those it was created with): 0, or -1 when
 * the backend's threads are fixed (no set_threads slot) or it refused. */
int be_set_threads(be_handle *h, int threads);

#endif
