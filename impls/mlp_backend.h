/* mlp_backend.h: the one interface every mlpbench backend implements.
 *
 * A backend is a const table of function pointers plus a private context (ggml-backend's
 * run-time table: optional slots are NULL, and the harness asks the table, never the name). The
 * harness never sees a backend's buffers: parameters, gradients and batches cross the boundary only
 * as host arrays through the calls below, so a device backend can keep everything resident.
 *
 * Model: out = f_out(act(x W1 + b1) W2 + b2), a two-layer perceptron.
 * Flat parameter layout (also used for gradients), row-major:
 *   W1 (n_in, n_hidden) | b1 (n_hidden) | W2 (n_hidden, n_out) | b2 (n_out)
 *
 * Loss conventions (what forward_backward returns and differentiates):
 *   MLP_LOSS_SIGMOID_SE:  out = sigmoid(z2), loss = 0.5 * sum_b sum_o (y - out)^2
 *                         (the tutorial's delta E*out*(1-out) is minus this gradient)
 *   MLP_LOSS_SOFTMAX_CE:  loss = mean_b -log softmax(z2)[label]
 *
 * Gradients accumulate: forward_backward adds into the gradient buffer, zero_grads
 * clears it (PyTorch semantics, so the tutorial's missing zero_grad is reproducible).
 * Every call returns 0 on success; on failure the message is in error(ctx).
 *
 * What may still be running when a call returns: zero_grads, forward_backward, step,
 * train_steps and gemm_floor may return as soon as their work is queued (on a device stream,
 * a worker thread), before it is done; what they hand back through a pointer (a loss,
 * mlp_steps_out) must be final when they return, so a backend that reports a loss waits for
 * that much. Every other call (set_params, get_params, get_grads, forward, set_dataset, and
 * destroy) returns with its work done. The harness never reads a timer after such a call
 * without calling sync first (harness/run/timed_region.h: a sample ends after sync), so a
 * backend that queues must make sync wait for all of it.
 */
#ifndef MLPB_MLP_BACKEND_H
#define MLPB_MLP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef enum { MLP_ACT_SIGMOID = 0, MLP_ACT_RELU = 1 } mlp_act;
typedef enum { MLP_LOSS_SIGMOID_SE = 0, MLP_LOSS_SOFTMAX_CE = 1 } mlp_loss;
typedef enum { MLP_OPT_SGD = 0, MLP_OPT_ADAM = 1 } mlp_opt;

typedef struct {
  int n_in, n_hidden, n_out;
  mlp_act act;
  mlp_loss loss;
  mlp_opt opt;
  float lr;
  float beta1, beta2, eps; /* Adam only; PyTorch defaults 0.9, 0.999, 1e-8 */
  int max_batch;           /* largest batch any call will pass */
} mlp_spec;

typedef struct {
  int threads; /* 0: the library's default */
  int ftz;     /* flush subnormals to zero (FTZ+DAZ) inside backend calls */
  int tf32;    /* device backends: allow TF32 tensor-core math */
  /* One of the code paths the backend offers (mlp_props.paths); NULL: its default. create()
   * fails on a name it does not offer. */
  const char *path;
} mlp_options;

typedef struct {
  const float *x;        /* x (B, n_in) */
  const float *y;        /* y (B, n_out) targets, MLP_LOSS_SIGMOID_SE only */
  const int32_t *labels; /* labels (B,), MLP_LOSS_SOFTMAX_CE only */
  int n;                 /* B */
} mlp_batch;

/* What the harness may ask of a backend instead of its name. */
typedef struct {
  int device;    /* runs on an accelerator: the run's GPU in reports is its describe() */
  int tf32;      /* honours mlp_options.tf32 (TF32 tensor-core products) */
  int reference; /* the plain reference other rows are compared with ("x vs reference") */
  /* Runs device code under an emulator on the CPU: its results prove correctness, its
   * speed means nothing, so it is never timed and never in a default backend list. */
  int emulated;
  /* The code paths mlp_options.path may choose, comma-separated, the default first
   * (e.g. "cublas,fused"); NULL: one path only. */
  const char *paths;
} mlp_props;

/* What train_steps reports. */
typedef struct {
  float mean_loss;       /* the mean batch loss of the call's steps */
  float last_loss;       /* the last step's batch loss */
  double device_seconds; /* the steps' time on the device's own clock (events), < 0: none */
} mlp_steps_out;

/* The math library under a host backend, recorded in a results file's context. */
typedef struct {
  char library[160], kernel[32];
  int threads;
} mlp_library;

/* How a library's idle worker threads wait between parallel regions, set through the
 * environment its thread runtime reads when it loads (e.g. libgomp's GOMP_SPINCOUNT). */
typedef struct {
  const char *user_vars[4]; /* the variables that choose a policy (NULL-ended): a user's wins */
  const char *name, *value; /* what mlpbench sets when the user set none of them */
} mlp_wait_policy;

/* A backend's name: 1 to MLP_NAME_MAX characters of [a-z0-9_-], starting with a letter, unique
 * among backends and peers. Results files, tables and series are keyed by it, so the harness
 * refuses a table whose name breaks this rather than cut or confuse it. */
#define MLP_NAME_MAX 20

/* The version of this table's layout and meaning, for backends loaded as plugins
 * (mlp_plugin.h). Raised whenever a slot is added, removed, moved or changes meaning. */
#define MLP_BACKEND_ABI 3

typedef struct mlp_backend {
  /* The plugin header: a plugin sets both (MLP_BACKEND_PLUGIN_HEADER), a table built into
   * mlpbench leaves them 0. They come first so that any harness, of any ABI, can read them
   * from any plugin's table before it trusts anything else in it. */
  uint32_t abi_version; /* MLP_BACKEND_ABI of the header the table was compiled against */
  uint32_t table_size;  /* sizeof(mlp_backend) there */
  const char *name;
  const char *summary;
  /* Every slot without a context gets the table it was reached through (`self`) first, as
   * ggml's backend interface does: one function can serve several tables, and a harness may
   * hand a wrapped copy of the table (a plugin's) without one trampoline per table. */
  /* 1 if usable on this machine; otherwise 0 and why (e.g. "not built", "no device"). */
  int (*available)(const struct mlp_backend *self, char *why, size_t len);
  /* Optional: library, kernel and device details for reports. ctx is a live context of this
   * backend or NULL (asked before any create, as `list` does): the answer may say more with
   * one, never something else. */
  void (*describe)(const struct mlp_backend *self, void *ctx, char *buf, size_t len);
  void *(*create)(const struct mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                  char *err, size_t len);
  void (*destroy)(void *ctx);
  const char *(*error)(void *ctx);
  /* Loads the weights and starts training afresh: gradients cleared, optimizer state (Adam's
   * moments and step count) reset, so one context serves a run after another. */
  int (*set_params)(void *ctx, const float *flat);
  int (*get_params)(void *ctx, float *flat);
  int (*get_grads)(void *ctx, float *flat);
  int (*zero_grads)(void *ctx);
  /* Adds this batch's gradients; *loss (if loss != NULL) gets the batch loss. */
  int (*forward_backward)(void *ctx, const mlp_batch *b, float *loss);
  /* One optimizer step with the accumulated gradients (Adam counts its own steps). */
  int (*step)(void *ctx);
  /* out (n, n_out): sigmoid outputs or softmax probabilities. */
  int (*forward)(void *ctx, const float *x, int n, float *out);
  /* Optional (NULL): keep a data set resident (e.g. on a device): x (n, n_in) with labels (n)
   * for MLP_LOSS_SOFTMAX_CE or targets (n, n_out) for MLP_LOSS_SIGMOID_SE (the other NULL).
   * Returns 1 to decline (this spec or kind of target is not supported resident: the caller
   * then feeds batches through forward_backward) ... */
  int (*set_dataset)(void *ctx, const float *x, const int32_t *labels, const float *targets, int n);
  /* ... and train a whole epoch on it in one call: consecutive batches of `batch` indices
   * from idx (n_idx of them; the last batch may be shorter), zero_grads before each step
   * when zero_grad is set, then forward_backward and step; *out as mlp_steps_out says.
   * Several full-batch epochs may come as one call (idx repeating 0..n-1), so a backend can
   * run a timing block in one launch. A non-finite loss fails the call, and error() names
   * the step. */
  int (*train_steps)(void *ctx, const int32_t *idx, int n_idx, int batch, int zero_grad,
                     mlp_steps_out *out);
  /* Optional (NULL): wait until every call's queued work is done, so host timers are honest.
   * NULL means no call ever returns with work still running. */
  int (*sync)(void *ctx);

  /* Optional (NULL): the floor under an epoch. Runs `steps` training steps' worth of the
   * step's matrix products alone, at batch `batch`: the same five GEMM shapes through the
   * same library calls as forward_backward, nothing else (no bias, activation, loss,
   * optimizer, gather). The context's own buffers are scribbled on: set_params before it
   * trains again. *seconds: the backend's own (device) time, or < 0; the harness times the
   * call on the wall clock after a sync either way (one clock), so a backend should capture
   * and warm up once and time only the products in later calls. */
  int (*gemm_floor)(void *ctx, int batch, int steps, double *seconds);
  /* Optional (NULL): the floor under a whole step, the step floor. Per step, gemm_floor's five
   * products and then the optimizer's compulsory memory traffic: one pass that reads what the
   * update must read (parameters and gradients; Adam's two moments too) and writes what it
   * must write (parameters; the moments), with an add per element and nothing else, on the
   * threads and the split the step's optimizer uses. The bytes are what no Adam can avoid;
   * its square root and division hide under them on some CPUs and not on others (Zen 4), so
   * an epoch can approach this floor but not the GEMM floor. Same contract as gemm_floor otherwise (scribbles, *seconds, warm-up). */
  int (*step_floor)(void *ctx, int batch, int steps, double *seconds);

  /* Optional (NULL): the device memory in use while this context lives, in bytes, as the
   * driver counts it: the whole device (this context's buffers, the libraries' workspaces,
   * the runtime, and whatever else uses that device). */
  int (*device_memory)(void *ctx, double *bytes);

  /* ---- optional facts and advice; NULL means none ---- */
  const mlp_props *props; /* NULL: host, fp32 only, not the reference */
  /* Which code path or kernel this context runs, for reports (e.g. "Haswell", "cublas"). */
  void (*path)(void *ctx, char *buf, size_t len);
  /* Fills *out with the library under the backend; 0, or -1 when there is none. */
  int (*library)(const struct mlp_backend *self, mlp_library *out);
  /* 1 and a warning when this machine's environment slows the backend down. */
  int (*advice)(const struct mlp_backend *self, char *buf, size_t len);
  /* A tuning request (e.g. "auto" or a kernel name): the environment variable that must be
   * set before the library loads (the caller re-runs itself with it). 1: set name=value;
   * 0: nothing to do; -1: not a request this backend knows (err says why). */
  int (*tuned_env)(const struct mlp_backend *self, const char *request, char *name, size_t nlen,
                   char *value, size_t vlen, char *err, size_t elen);
  /* The wait policy of the library's idle worker threads, which its runtime reads once, when
   * it loads (NULL: none needed). A user who set any of `user_vars` chose a policy: it is
   * kept. Otherwise the caller sets name=value and re-runs itself, so every process of the
   * run (--processes children, peers) waits the same way. */
  const mlp_wait_policy *wait_policy;
  /* Optional: the machine's FP32 rate as this library reaches it, in GFLOP/s: the best of a
   * few large square products with opt's threads, in about budget_s seconds; desc gets what
   * was run ("cblas_sgemm 2048^3, 2 threads"). Not the vendor's theoretical figure: what the
   * same library, on the same cores, does at its best. 0, or -1 (err set). */
  int (*peak_gflops)(const struct mlp_backend *self, const mlp_options *opt, double budget_s,
                     double *gflops, char *desc, size_t dlen, char *err, size_t elen);
  /* Optional: the threads the next calls use, 1 to the threads the context was created with.
   * The harness lowers it between timing samples when other work holds cores (a fork-join
   * waits for a preempted thread's time slice) and raises it back when they are free
   * (harness/run/thread_fit.h). NULL: the threads are fixed at create. */
  int (*set_threads)(void *ctx, int threads);
} mlp_backend;

static inline size_t mlp_param_count(const mlp_spec *s) {
  return (size_t)s->n_in * s->n_hidden + s->n_hidden + (size_t)s->n_hidden * s->n_out + s->n_out;
}

/* Offsets of W1, b1, W2, b2 in the flat layout. */
static inline void mlp_param_offsets(const mlp_spec *s, size_t off[4]) {
  off[0] = 0;
  off[1] = (size_t)s->n_in * s->n_hidden;
  off[2] = off[1] + s->n_hidden;
  off[3] = off[2] + (size_t)s->n_hidden * s->n_out;
}

#endif
