/* cpu_mlp.c: the fp32 forward/backward/optimizer step for the CPU backends. */
#include "cpu_mlp.h"
#include "div_const.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define CPU_HAVE_MXCSR 1
#endif

/* Gate evaluation builds only (cmake -DMLPBENCH_PLANT_PCT=N): real redundant work, rows of
 * the first product computed again into a scratch buffer, sized to add about N% to a step's
 * GEMM FLOPs. harness/scripts/gate-eval.sh measures what the regression gate catches. */
#ifndef MLPB_PLANT_PCT
#define MLPB_PLANT_PCT 0
#endif

typedef struct {
  mlp_spec spec;
  mlp_options opt;
  cpu_matmul_ops mm;
  size_t n_params;
  size_t off[4];
  float *params;  /* flat W1 b1 W2 b2 */
  float *grads;   /* same layout */
  float *m, *v;   /* Adam moments */
  long t;         /* Adam step count */
  int grads_zero; /* zero_grads was called and nothing accumulated since: the next products
                     overwrite instead of adding, so no pass clears 1.6 MB per step */
  float *h;       /* h (B, n_hidden) activations */
  float *dh;      /* dh (B, n_hidden) */
  float *z2;      /* z2 (B, n_out) logits, then outputs */
  float *dz2;     /* dz2 (B, n_out) */
  float *xs;      /* xs (B, n_in): gemm_floor's input, allocated when first asked */
  float *plant;   /* plant (B, n_hidden): MLPB_PLANT_PCT's scratch */
  /* the resident training split (set_dataset): a copy, so the caller's arrays may go */
  float *ds_x;        /* ds_x (ds_n, n_in), or NULL when ds_px holds it */
  uint8_t *ds_px;     /* ds_px (ds_n, n_in): ds_x as bytes u, when every value is u / 255.0f */
  int32_t *ds_labels; /* ds_labels (ds_n), softmax cross-entropy */
  float *ds_t;        /* ds_t (ds_n, n_out) targets, sigmoid squared error */
  int ds_n;
  float *xb, *tb; /* xb (B, n_in), tb (B, n_out): a batch gathered from it */
  int32_t *yb;    /* yb (B) */
  char err[256];
} cpu_mlp;

/* Every buffer the products and Adam stream through starts on a cache line. malloc gives 16
 * bytes, and where a buffer lands depends on what the process freed before (a CUDA build's
 * libraries, the naive backend's run before this one): at 48 bytes past a line, each AVX-512
 * load of Adam and of OpenBLAS's packing splits across two lines, and the classifier's blas
 * epoch ran 8% slower on one thread (37 vs 40 ms, same binary, results/reference/
 * alignment.md). The size is rounded up to whole lines, as aligned_alloc requires. */
static void *alloc_lines(size_t n, size_t size, int zero) {
  size_t bytes = n * size;
  if (size && bytes / size != n) return NULL;
  bytes = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, bytes ? bytes : 64);
  if (p && zero) memset(p, 0, bytes);
  return p;
}

/* Subnormals: Adam's second moment decays into subnormal floats on this data, and x86
 * handles those in microcode (tens of times slower per op). Flushing them to zero inside
 * our own calls changes results only below 1.2e-38; the caller's FP state is restored. */
typedef struct {
  unsigned int saved;
} fp_guard;

static fp_guard fp_enter(const cpu_mlp *c) {
  fp_guard g = {0};
#ifdef CPU_HAVE_MXCSR
  g.saved = _mm_getcsr();
  if (c->opt.ftz) _mm_setcsr(g.saved | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
#else
  (void)c;
#endif
  return g;
}

static void fp_leave(fp_guard g) {
#ifdef CPU_HAVE_MXCSR
  _mm_setcsr(g.saved);
#else
  (void)g;
#endif
}

static void set_err(cpu_mlp *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
}

int cpu_mlp_check_spec(const mlp_spec *s, char *err, size_t len) {
  const long lim = 1L << 24; /* a dimension past this is a typo, not a model */
  if (s->n_in < 1 || s->n_hidden < 1 || s->n_out < 1 || s->max_batch < 1 || s->n_in > lim ||
      s->n_hidden > lim || s->n_out > lim || s->max_batch > lim) {
    snprintf(err, len, "bad model size %d-%d-%d, batch %d (each must be 1..%ld)", s->n_in,
             s->n_hidden, s->n_out, s->max_batch, lim);
    return -1;
  }
  if ((double)s->n_in * s->n_hidden + (double)s->n_hidden * s->n_out > 1e9 ||
      (double)s->max_batch * s->n_hidden > 1e9) {
    snprintf(err, len, "model %d-%d-%d with batch %d is too large (over 1e9 floats per buffer)",
             s->n_in, s->n_hidden, s->n_out, s->max_batch);
    return -1;
  }
  return 0;
}

void *cpu_mlp_create(const mlp_spec *spec, const mlp_options *opt, const cpu_matmul_ops *mm,
                     char *err, size_t len) {
  if (cpu_mlp_check_spec(spec, err, len)) return NULL;
  cpu_mlp *c = calloc(1, sizeof *c);
  if (!c) goto oom;
  c->spec = *spec;
  c->opt = *opt;
  c->mm = *mm;
  c->n_params = mlp_param_count(spec);
  mlp_param_offsets(spec, c->off);
  size_t B = (size_t)spec->max_batch;
  c->params = alloc_lines(c->n_params, sizeof(float), 1);
  c->grads = alloc_lines(c->n_params, sizeof(float), 1);
  c->m = alloc_lines(c->n_params, sizeof(float), 1);
  c->v = alloc_lines(c->n_params, sizeof(float), 1);
  c->h = alloc_lines(B * spec->n_hidden, sizeof(float), 1);
  c->dh = alloc_lines(B * spec->n_hidden, sizeof(float), 1);
  c->z2 = alloc_lines(B * spec->n_out, sizeof(float), 1);
  c->dz2 = alloc_lines(B * spec->n_out, sizeof(float), 1);
  if (!c->params || !c->grads || !c->m || !c->v || !c->h || !c->dh || !c->z2 || !c->dz2) goto oom;
  return c;
oom:
  snprintf(err, len, "out of memory allocating a %d-%d-%d model for batch %d", spec->n_in,
           spec->n_hidden, spec->n_out, spec->max_batch);
  cpu_mlp_destroy(c);
  return NULL;
}

void cpu_mlp_destroy(void *ctx) {
  cpu_mlp *c = ctx;
  if (!c) return;
  free(c->params);
  free(c->grads);
  free(c->m);
  free(c->v);
  free(c->h);
  free(c->dh);
  free(c->z2);
  free(c->dz2);
  free(c->xs);
  free(c->plant);
  free(c->ds_x);
  free(c->ds_px);
  free(c->ds_labels);
  free(c->ds_t);
  free(c->xb);
  free(c->yb);
  free(c->tb);
  free(c);
}

const char *cpu_mlp_error(void *ctx) {
  return ((cpu_mlp *)ctx)->err;
}

/* Gradients are about to be read as values: make a pending zero real. */
static void grads_materialize(cpu_mlp *c) {
  if (!c->grads_zero) return;
  memset(c->grads, 0, c->n_params * sizeof(float));
  c->grads_zero = 0;
}

/* Loads the weights and starts training afresh: gradients cleared, Adam's moments and step
 * count reset (the interface's contract, so one context serves several runs). */
int cpu_mlp_set_params(void *ctx, const float *flat) {
  cpu_mlp *c = ctx;
  memcpy(c->params, flat, c->n_params * sizeof(float));
  if (c->m) memset(c->m, 0, c->n_params * sizeof(float));
  if (c->v) memset(c->v, 0, c->n_params * sizeof(float));
  c->t = 0;
  c->grads_zero = 1;
  return 0;
}

int cpu_mlp_get_params(void *ctx, float *flat) {
  cpu_mlp *c = ctx;
  memcpy(flat, c->params, c->n_params * sizeof(float));
  return 0;
}

int cpu_mlp_get_grads(void *ctx, float *flat) {
  cpu_mlp *c = ctx;
  grads_materialize(c);
  memcpy(flat, c->grads, c->n_params * sizeof(float));
  return 0;
}

int cpu_mlp_zero_grads(void *ctx) {
  cpu_mlp *c = ctx;
  c->grads_zero = 1;
  return 0;
}

/* ---- sharing a loop between the products' threads ---- */

/* Below this many elements a loop stays on the calling thread: a fork-join on the pool
 * costs more than a share of a small pass saves. Measured (2-vCPU Xeon, OpenMP OpenBLAS, 2
 * threads): the classifier's 64,000-element bias passes split made forward_backward 30 us
 * slower per step, the epoch 1.4% slower; Adam's 397,510 parameters split halve the step. */
enum { PAR_MIN = 1 << 17 };

typedef struct {
  cpu_task fn;
  void *arg;
  unsigned int csr; /* the calling thread's MXCSR: FTZ/DAZ as fp_enter left them */
} par_job;

/* Each part runs in the calling thread's FP state, FTZ/DAZ on or off: a worker's MXCSR is its
 * own (inherited from whoever started it), and a part that flushed differently would make
 * results depend on which thread computed an element. */
static void par_part(void *arg, int part, int parts) {
  const par_job *j = arg;
#ifdef CPU_HAVE_MXCSR
  unsigned int saved = _mm_getcsr();
  _mm_setcsr(j->csr);
#endif
  j->fn(j->arg, part, parts);
#ifdef CPU_HAVE_MXCSR
  _mm_setcsr(saved);
#endif
}

static void run_parts(const cpu_mlp *c, size_t work, cpu_task fn, void *arg) {
  if (!c->mm.parallel || work < PAR_MIN) {
    fn(arg, 0, 1);
    return;
  }
  par_job j = {fn, arg, 0};
#ifdef CPU_HAVE_MXCSR
  j.csr = _mm_getcsr();
#endif
  c->mm.parallel(par_part, &j);
}

// [*i0, *i1) = share `part` of `parts` of [0, n), its edges on multiples of align
static void part_range(size_t n, int part, int parts, size_t align, size_t *i0, size_t *i1) {
  size_t blocks = (n + align - 1) / align;
  *i0 = blocks * (size_t)part / (size_t)parts * align;
  *i1 = blocks * (size_t)(part + 1) / (size_t)parts * align;
  *i0 = *i0 < n ? *i0 : n;
  *i1 = *i1 < n ? *i1 : n;
}

/* ---- elementwise kernels; names match the other backends' ---- */

// out (B, C) += bias (C) broadcast over rows
static void bias_forward(float *out, const float *bias, int B, int C) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < C; j++)
      out[(size_t)b * C + j] += bias[j];
}

// dbias (C) += (or =, when !acc) sum over rows of dout (B, C)
static void bias_backward(float *dbias, const float *dout, int B, int C, int acc) {
  if (!acc) memset(dbias, 0, (size_t)C * sizeof(float));
  for (int b = 0; b < B; b++)
    for (int j = 0; j < C; j++)
      dbias[j] += dout[(size_t)b * C + j];
}

static void sigmoid_forward(float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    x[i] = 1.0f / (1.0f + expf(-x[i]));
}

// h (B, C) = act(h + bias): the bias and the activation in one pass over rows [b0, b1)
static void bias_act_forward(float *h, const float *bias, int b0, int b1, int C, mlp_act act) {
  for (int b = b0; b < b1; b++) {
    float *r = h + (size_t)b * C;
    if (act == MLP_ACT_RELU)
      for (int j = 0; j < C; j++) {
        float v = r[j] + bias[j];
        r[j] = v > 0.0f ? v : 0.0f;
      }
    else
      for (int j = 0; j < C; j++)
        r[j] = 1.0f / (1.0f + expf(-(r[j] + bias[j])));
  }
}

// dh (B, C) *= act'(h), given the activation's output h (ReLU's gradient at 0 is 0, as
// PyTorch's); then dbias += column sums of dh over rows [0, B), for columns [c0, c1).
// One pass: each column block is read once while hot.
static void act_bias_backward(float *dh, const float *h, float *dbias, int B, int C, int c0, int c1,
                              mlp_act act, int acc) {
  if (!acc) memset(dbias + c0, 0, (size_t)(c1 - c0) * sizeof(float));
  for (int b = 0; b < B; b++) {
    float *d = dh + (size_t)b * C;
    const float *o = h + (size_t)b * C;
    if (act == MLP_ACT_RELU)
      for (int j = c0; j < c1; j++) {
        d[j] = o[j] > 0.0f ? d[j] : 0.0f;
        dbias[j] += d[j];
      }
    else
      for (int j = c0; j < c1; j++) {
        d[j] *= o[j] * (1.0f - o[j]);
        dbias[j] += d[j];
      }
  }
}

// logits (B, V) -> probs in place; dlogits (B, V) = (probs - onehot) / B; returns mean loss
static float softmax_xent_forward_backward(float *dlogits, float *logits, const int32_t *labels,
                                           int B, int V) {
  double loss = 0.0;
  for (int b = 0; b < B; b++) {
    float *z = logits + (size_t)b * V;
    float *dz = dlogits + (size_t)b * V;
    float mx = z[0], zy = z[labels[b]];
    for (int k = 1; k < V; k++)
      mx = z[k] > mx ? z[k] : mx;
    float sum = 0.0f;
    for (int k = 0; k < V; k++) {
      z[k] = expf(z[k] - mx);
      sum += z[k];
    }
    float inv = 1.0f / sum;
    int y = labels[b];
    /* -log p_y as log-sum-exp, exact where p_y underflows (as PyTorch's log_softmax) */
    loss += logf(sum) + mx - zy;
    for (int k = 0; k < V; k++)
      z[k] *= inv;
    for (int k = 0; k < V; k++)
      dz[k] = (z[k] - (k == y ? 1.0f : 0.0f)) / (float)B;
  }
  return (float)(loss / B);
}

// out (B, V) = sigmoid(logits) in place; dlogits = -(y - out) * out * (1 - out)
static float sigmoid_se_forward_backward(float *dlogits, float *logits, const float *y, int B,
                                         int V) {
  size_t n = (size_t)B * V;
  sigmoid_forward(logits, n);
  double loss = 0.0;
  for (size_t i = 0; i < n; i++) {
    float e = y[i] - logits[i];
    loss += 0.5 * (double)e * e;
    dlogits[i] = -e * logits[i] * (1.0f - logits[i]);
  }
  return (float)loss;
}

static void sgd_update(float *p, const float *g, size_t n, float lr) {
  for (size_t i = 0; i < n; i++)
    p[i] -= lr * g[i];
}

// PyTorch's Adam (non-fused, non-amsgrad) on n entries; step_size = lr / (1 - beta1^t) and
// bc2_sqrt = sqrt(1 - beta2^t), computed in double as PyTorch does. The division by bc2_sqrt
// is div_const's: the same bits as PyTorch's division, one divider operation fewer per
// parameter (a plain multiply by 1/bc2_sqrt would change the curves' last digits).
static void adam_update(float *p, const float *g, float *m, float *v, size_t n, float beta1,
                        float beta2, float eps, float step_size, float bc2_sqrt) {
  const int exact = div_const_ok(bc2_sqrt, eps); /* else the division itself */
  const float rc = 1.0f / bc2_sqrt;
  for (size_t i = 0; i < n; i++) { /* (the compiler makes a loop of each branch) */
    m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
    v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    float s = sqrtf(v[i]);
    float denom = (exact ? div_const(s, bc2_sqrt, rc) : s / bc2_sqrt) + eps;
    p[i] -= step_size * m[i] / denom;
  }
}

/* ---- the passes above as shares of a loop (run_parts) ---- */

typedef struct {
  float *h;
  const float *bias;
  int B, C;
  mlp_act act;
} bias_act_job;

static void bias_act_part(void *arg, int part, int parts) {
  const bias_act_job *j = arg;
  size_t b0, b1;
  part_range((size_t)j->B, part, parts, 1, &b0, &b1);
  bias_act_forward(j->h, j->bias, (int)b0, (int)b1, j->C, j->act);
}

typedef struct {
  float *dh, *dbias;
  const float *h;
  int B, C, acc;
  mlp_act act;
} act_bias_job;

/* by columns, so each part owns its slice of dbias and sums its rows in the serial order */
static void act_bias_part(void *arg, int part, int parts) {
  const act_bias_job *j = arg;
  size_t c0, c1;
  part_range((size_t)j->C, part, parts, 16, &c0, &c1);
  if (c1 > c0)
    act_bias_backward(j->dh, j->h, j->dbias, j->B, j->C, (int)c0, (int)c1, j->act, j->acc);
}

/* Images normalized as the loaders do (byte / 255.0f) are kept as their bytes: a batch's
 * random rows then come from a split a quarter the size, and a row is 13 cache lines, not 49
 * (the gather waits on memory, not on the conversion). The conversion divides as the loaders
 * did, with div_const's bits, so the step sees the same floats either way. */
static void px_to_float(float *x, const uint8_t *px, size_t n) {
  const float rc = 1.0f / 255.0f;
  for (size_t i = 0; i < n; i++)
    x[i] = div_const((float)px[i], 255.0f, rc);
}

// px (n) = x as bytes when every x[i] has the bits of px[i] / 255.0f; else 0 and px unset
static int px_from_float(uint8_t *px, const float *x, size_t n) {
  float f[256];
  for (int u = 0; u < 256; u++)
    f[u] = (float)u / 255.0f; /* the loaders' normalization, which px_to_float reproduces */
  for (size_t i = 0; i < n; i++) {
    float u = x[i] * 255.0f;
    if (!(u >= 0.0f && u <= 255.0f)) return 0;
    int k = (int)lrintf(u);
    if (memcmp(&f[k], &x[i], sizeof(float))) return 0;
    px[i] = (uint8_t)k;
  }
  return 1;
}

typedef struct {
  cpu_mlp *c;
  const int32_t *idx;
  int B;
} gather_job;

// xb (B, n_in) and its labels or targets = the resident rows idx[0..B), rows shared by part
static void gather_part(void *arg, int part, int parts) {
  const gather_job *j = arg;
  cpu_mlp *c = j->c;
  const int ni = c->spec.n_in, no = c->spec.n_out;
  size_t r0, r1;
  part_range((size_t)j->B, part, parts, 1, &r0, &r1);
  for (size_t r = r0; r < r1; r++) {
    size_t k = (size_t)j->idx[r];
    if (c->ds_px)
      px_to_float(c->xb + r * ni, c->ds_px + k * ni, (size_t)ni);
    else
      memcpy(c->xb + r * ni, c->ds_x + k * ni, (size_t)ni * sizeof(float));
    if (c->ds_labels)
      c->yb[r] = c->ds_labels[k];
    else
      memcpy(c->tb + r * no, c->ds_t + k * no, (size_t)no * sizeof(float));
  }
}

/* The next batch is gathered inside the optimizer's parts, each part copying its share of the
 * rows after its share of the update (the step's products are done with this batch's rows by
 * then): the copy waits on memory from a split far larger than the caches, so two threads
 * copying halve it, and riding on the optimizer's fork-join costs no fork of its own, which
 * on a busy machine (a thread waiting for its time slice at every join) costs more than the
 * copy saves. */
typedef struct {
  cpu_mlp *c;
  float step_size, bc2_sqrt; /* Adam's, for this step */
  const gather_job *next;    /* the next batch to gather, or NULL */
} update_job;

static void adam_part(void *arg, int part, int parts) {
  const update_job *j = arg;
  cpu_mlp *c = j->c;
  const mlp_spec *s = &c->spec;
  size_t i0, i1;
  part_range(c->n_params, part, parts, 16, &i0, &i1);
  adam_update(c->params + i0, c->grads + i0, c->m + i0, c->v + i0, i1 - i0, s->beta1, s->beta2,
              s->eps, j->step_size, j->bc2_sqrt);
  if (j->next) gather_part((void *)j->next, part, parts);
}

static void sgd_part(void *arg, int part, int parts) {
  const update_job *j = arg;
  cpu_mlp *c = j->c;
  size_t i0, i1;
  part_range(c->n_params, part, parts, 16, &i0, &i1);
  sgd_update(c->params + i0, c->grads + i0, i1 - i0, c->spec.lr);
  if (j->next) gather_part((void *)j->next, part, parts);
}

/* ---- the layer pair ---- */

// h (B, H) = act(x W1 + b1); z2 (B, O) = h W2 + b2 (logits)
static void mlp_forward(cpu_mlp *c, const float *x, int B) {
  const mlp_spec *s = &c->spec;
  const float *W1 = c->params + c->off[0];
  const float *W2 = c->params + c->off[2], *b2 = c->params + c->off[3];
  c->mm.matmul_nn(c->h, x, W1, B, s->n_hidden, s->n_in);
  if (MLPB_PLANT_PCT > 0) {
    double ratio = (4.0 * s->n_in * s->n_hidden + 6.0 * s->n_hidden * s->n_out) /
                   (2.0 * s->n_in * s->n_hidden);
    int extra = (int)(B * MLPB_PLANT_PCT / 100.0 * ratio + 0.5);
    extra = extra > B ? B : extra;
    if (extra > 0 &&
        (c->plant || (c->plant = alloc_lines((size_t)B * s->n_hidden, sizeof(float), 1))))
      c->mm.matmul_nn(c->plant, x, W1, extra, s->n_hidden, s->n_in);
  }
  bias_act_job ba = {c->h, c->params + c->off[1], B, s->n_hidden, s->act};
  run_parts(c, (size_t)B * s->n_hidden, bias_act_part, &ba);
  c->mm.matmul_nn(c->z2, c->h, W2, B, s->n_out, s->n_hidden);
  bias_forward(c->z2, b2, B, s->n_out);
}

// given dz2 (B, O): accumulate dW2, db2, dW1, db1 (or write them, right after zero_grads)
static void mlp_backward(cpu_mlp *c, const float *x, int B) {
  const mlp_spec *s = &c->spec;
  const float *W2 = c->params + c->off[2];
  float *dW1 = c->grads + c->off[0], *dW2 = c->grads + c->off[2], *db2 = c->grads + c->off[3];
  const int acc = !c->grads_zero;
  (acc ? c->mm.matmul_tn_acc : c->mm.matmul_tn)(dW2, c->h, c->dz2, s->n_hidden, s->n_out, B);
  bias_backward(db2, c->dz2, B, s->n_out, acc);
  c->mm.matmul_nt(c->dh, c->dz2, W2, B, s->n_hidden, s->n_out);
  act_bias_job ab = {c->dh, c->grads + c->off[1], c->h, B, s->n_hidden, acc, s->act};
  run_parts(c, (size_t)B * s->n_hidden, act_bias_part, &ab);
  (acc ? c->mm.matmul_tn_acc : c->mm.matmul_tn)(dW1, x, c->dh, s->n_in, s->n_hidden, B);
  c->grads_zero = 0;
}

// the batch's gradients added (or written, right after zero_grads); returns its loss
static float forward_backward(cpu_mlp *c, const mlp_batch *b) {
  const mlp_spec *s = &c->spec;
  mlp_forward(c, b->x, b->n);
  float l;
  if (s->loss == MLP_LOSS_SOFTMAX_CE)
    l = softmax_xent_forward_backward(c->dz2, c->z2, b->labels, b->n, s->n_out);
  else
    l = sigmoid_se_forward_backward(c->dz2, c->z2, b->y, b->n, s->n_out);
  mlp_backward(c, b->x, b->n);
  return l;
}

// the optimizer step; and with next, that batch gathered on the same parts
static void step(cpu_mlp *c, const gather_job *next) {
  const mlp_spec *s = &c->spec;
  grads_materialize(c); /* a step right after zero_grads steps on zeros */
  if (s->opt == MLP_OPT_ADAM) {
    long t = ++c->t;
    double bc1 = 1.0 - pow(s->beta1, (double)t), bc2 = 1.0 - pow(s->beta2, (double)t);
    update_job j = {c, (float)(s->lr / bc1), (float)sqrt(bc2), next};
    run_parts(c, c->n_params, adam_part, &j);
  } else {
    update_job j = {c, 0.0f, 0.0f, next};
    run_parts(c, c->n_params, sgd_part, &j);
  }
}

int cpu_mlp_forward_backward(void *ctx, const mlp_batch *b, float *loss) {
  cpu_mlp *c = ctx;
  const mlp_spec *s = &c->spec;
  if (b->n < 1 || b->n > s->max_batch) {
    set_err(c, "batch of %d outside 1..%d", b->n, s->max_batch);
    return -1;
  }
  if (s->loss == MLP_LOSS_SOFTMAX_CE)
    for (int i = 0; i < b->n; i++)
      if (b->labels[i] < 0 || b->labels[i] >= s->n_out) {
        set_err(c, "label %d of batch row %d outside 0..%d", b->labels[i], i, s->n_out - 1);
        return -1;
      }
  fp_guard g = fp_enter(c);
  float l = forward_backward(c, b);
  fp_leave(g);
  if (loss) *loss = l;
  return 0;
}

int cpu_mlp_step(void *ctx) {
  cpu_mlp *c = ctx;
  fp_guard g = fp_enter(c);
  step(c, NULL);
  fp_leave(g);
  return 0;
}

/* ---- the resident training split: the gather inside the step ---- */

int cpu_mlp_set_dataset(void *ctx, const float *x, const int32_t *labels, const float *targets,
                        int n) {
  cpu_mlp *c = ctx;
  const mlp_spec *s = &c->spec;
  const int ce = s->loss == MLP_LOSS_SOFTMAX_CE;
  if (n < 1 || !x || (ce ? !labels : !targets)) {
    set_err(c, "set_dataset: %d samples, %s", n,
            ce ? "labels needed (softmax cross-entropy)" : "targets needed (squared error)");
    return -1;
  }
  if (ce)
    for (int i = 0; i < n; i++)
      if (labels[i] < 0 || labels[i] >= s->n_out) {
        set_err(c, "set_dataset: label %d of sample %d outside 0..%d", labels[i], i, s->n_out - 1);
        return -1;
      }
  free(c->ds_x), free(c->ds_px), free(c->ds_labels), free(c->ds_t);
  c->ds_x = NULL, c->ds_px = NULL, c->ds_labels = NULL, c->ds_t = NULL, c->ds_n = 0;
  size_t B = (size_t)s->max_batch, nx = (size_t)n * s->n_in;
  c->ds_px = alloc_lines(nx, 1, 0);
  if (c->ds_px && !px_from_float(c->ds_px, x, nx)) free(c->ds_px), c->ds_px = NULL;
  if (!c->ds_px) {
    c->ds_x = alloc_lines(nx, sizeof(float), 0);
    if (c->ds_x) memcpy(c->ds_x, x, nx * sizeof(float));
  }
  if (ce)
    c->ds_labels = malloc((size_t)n * sizeof(int32_t));
  else
    c->ds_t = alloc_lines((size_t)n * s->n_out, sizeof(float), 0);
  if (!c->xb) c->xb = alloc_lines(B * s->n_in, sizeof(float), 0);
  if (!c->yb) c->yb = malloc(B * sizeof(int32_t));
  if (!c->tb) c->tb = alloc_lines(B * s->n_out, sizeof(float), 0);
  if (!(c->ds_x || c->ds_px) || !(ce ? (void *)c->ds_labels : (void *)c->ds_t) || !c->xb ||
      !c->yb || !c->tb) {
    set_err(c, "out of memory for a resident set of %d samples", n);
    return -1;
  }
  if (ce)
    memcpy(c->ds_labels, labels, (size_t)n * sizeof(int32_t));
  else
    memcpy(c->ds_t, targets, (size_t)n * s->n_out * sizeof(float));
  c->ds_n = n;
  return 0;
}

int cpu_mlp_train_steps(void *ctx, const int32_t *idx, int n_idx, int batch, int zero_grad,
                        mlp_steps_out *out) {
  cpu_mlp *c = ctx;
  const mlp_spec *s = &c->spec;
  if (!c->ds_n) {
    set_err(c, "train_steps before set_dataset");
    return -1;
  }
  if (batch < 1 || batch > s->max_batch || n_idx < 1) {
    set_err(c, "train_steps: batch of %d outside 1..%d, or %d indices", batch, s->max_batch, n_idx);
    return -1;
  }
  for (int i = 0; i < n_idx; i++)
    if (idx[i] < 0 || idx[i] >= c->ds_n) {
      set_err(c, "train_steps: index %d (position %d) outside 0..%d", idx[i], i, c->ds_n - 1);
      return -1;
    }
  fp_guard g = fp_enter(c);
  double sum = 0.0;
  float l = 0.0f;
  int steps = 0;
  gather_job first = {c, idx, n_idx < batch ? n_idx : batch};
  gather_part(&first, 0, 1);
  for (int at = 0; at < n_idx; at += batch, steps++) {
    const int B = n_idx - at < batch ? n_idx - at : batch, nat = at + batch;
    gather_job next = {c, idx + nat, n_idx - nat < batch ? n_idx - nat : batch};
    mlp_batch b = {.x = c->xb, .y = c->tb, .labels = c->yb, .n = B};
    if (zero_grad) c->grads_zero = 1;
    l = forward_backward(c, &b);
    step(c, nat < n_idx ? &next : NULL); /* xb is free again: the next batch comes in */
    if (!isfinite(l)) {
      fp_leave(g);
      set_err(c,
              "training diverged: loss is %s at step %d (learning rate %g too high, or bad "
              "input data)",
              isnan(l) ? "NaN" : "infinite", steps + 1, s->lr);
      return -1;
    }
    sum += l;
  }
  fp_leave(g);
  out->mean_loss = (float)(sum / steps);
  out->last_loss = l;
  out->device_seconds = -1.0;
  return 0;
}

void cpu_mlp_softmax_rows(float *z, int B, int V) {
  for (int b = 0; b < B; b++) {
    float *r = z + (size_t)b * V;
    float mx = r[0], sum = 0.0f;
    for (int k = 1; k < V; k++)
      mx = r[k] > mx ? r[k] : mx;
    for (int k = 0; k < V; k++)
      sum += (r[k] = expf(r[k] - mx));
    for (int k = 0; k < V; k++)
      r[k] /= sum;
  }
}

int cpu_mlp_forward(void *ctx, const float *x, int n, float *out) {
  cpu_mlp *c = ctx;
  const mlp_spec *s = &c->spec;
  fp_guard g = fp_enter(c);
  for (int at = 0; at < n; at += s->max_batch) {
    int B = n - at < s->max_batch ? n - at : s->max_batch;
    mlp_forward(c, x + (size_t)at * s->n_in, B);
    if (s->loss == MLP_LOSS_SOFTMAX_CE)
      cpu_mlp_softmax_rows(c->z2, B, s->n_out);
    else
      sigmoid_forward(c->z2, (size_t)B * s->n_out);
    memcpy(out + (size_t)at * s->n_out, c->z2, (size_t)B * s->n_out * sizeof(float));
  }
  fp_leave(g);
  return 0;
}

/* The optimizer's compulsory bytes and nothing else: each parameter's gradient, and Adam's two
 * moments, read; the parameter and the moments written back. An add per element keeps the
 * stores real without arithmetic of its own, and leaves every value as it was when the
 * gradients are zero, as they are in the floors (zero inputs): nothing drifts or goes
 * subnormal however many steps a floor runs. */
static void traffic_part(void *arg, int part, int parts) {
  cpu_mlp *c = arg;
  size_t i0, i1;
  part_range(c->n_params, part, parts, 16, &i0, &i1); /* Adam's and SGD's split */
  float *restrict p = c->params, *restrict m = c->m, *restrict v = c->v;
  const float *restrict g = c->grads;
  if (c->spec.opt == MLP_OPT_ADAM)
    for (size_t i = i0; i < i1; i++) {
      m[i] += g[i];
      v[i] += g[i];
      p[i] += g[i];
    }
  else
    for (size_t i = i0; i < i1; i++)
      p[i] += g[i];
}

/* The five products of a step, as a step after zero_grads calls them, and with `traffic` the
 * optimizer's bytes after them on the optimizer's threads: what an epoch would cost if
 * everything else were free. */
static int floor_steps(cpu_mlp *c, int batch, int steps, int traffic, double *seconds) {
  const mlp_spec *s = &c->spec;
  if (batch < 1 || batch > s->max_batch) {
    set_err(c, "batch of %d outside 1..%d", batch, s->max_batch);
    return -1;
  }
  if (!c->xs && !(c->xs = alloc_lines((size_t)s->max_batch * s->n_in, sizeof(float), 1))) {
    set_err(c, "out of memory");
    return -1;
  }
  const float *W1 = c->params + c->off[0], *W2 = c->params + c->off[2];
  float *dW1 = c->grads + c->off[0], *dW2 = c->grads + c->off[2];
  fp_guard g = fp_enter(c);
  for (int i = 0; i < steps; i++) {
    c->mm.matmul_nn(c->h, c->xs, W1, batch, s->n_hidden, s->n_in);
    c->mm.matmul_nn(c->z2, c->h, W2, batch, s->n_out, s->n_hidden);
    c->mm.matmul_tn(dW2, c->h, c->dz2, s->n_hidden, s->n_out, batch);
    c->mm.matmul_nt(c->dh, c->dz2, W2, batch, s->n_hidden, s->n_out);
    c->mm.matmul_tn(dW1, c->xs, c->dh, s->n_in, s->n_hidden, batch);
    if (traffic) run_parts(c, c->n_params, traffic_part, c);
  }
  fp_leave(g);
  c->grads_zero = 0; /* the products wrote the gradients */
  *seconds = -1.0;   /* the caller's clock */
  return 0;
}

int cpu_mlp_gemm_floor(void *ctx, int batch, int steps, double *seconds) {
  return floor_steps(ctx, batch, steps, 0, seconds);
}

int cpu_mlp_step_floor(void *ctx, int batch, int steps, double *seconds) {
  return floor_steps(ctx, batch, steps, 1, seconds);
}
