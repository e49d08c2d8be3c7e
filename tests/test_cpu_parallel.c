/* test_cpu_parallel: the CPU step's loops split into shares (cpu_matmul_ops.parallel) give
 * the same bits as the serial loops, for any number of shares in any order, and each share
 * flushes subnormals on its own thread as the calling thread does. A split that drops a
 * share must show as different weights, so the comparison can fail. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#include "../impls/naive/naive.h"
#include "t.h"

/* three shares, last first, all on the calling thread */
static int reversed_calls;
static void par_reversed(cpu_task fn, void *arg) {
  reversed_calls++;
  for (int p = 2; p >= 0; p--)
    fn(arg, p, 3);
}

/* a broken split: the last of four shares is never run */
static void par_drops_one(cpu_task fn, void *arg) {
  for (int p = 0; p < 3; p++)
    fn(arg, p, 4);
}

/* every share on a thread of its own, in the FP state worker_csr: a pool thread's state is
 * whatever its creator's was when it started (a new thread inherits its creator's MXCSR) */
static unsigned int worker_csr = 0x1f80; /* nearest, exceptions masked, FTZ and DAZ off */
typedef struct {
  cpu_task fn;
  void *arg;
  int part;
} share;
static void *share_main(void *a) {
  share *s = a;
#ifdef HAVE_MXCSR
  _mm_setcsr(worker_csr);
#endif
  s->fn(s->arg, s->part, 2);
  return NULL;
}
static void par_threads(cpu_task fn, void *arg) {
  pthread_t t[2];
  share s[2];
  int started[2] = {0, 0};
  for (int p = 0; p < 2; p++) {
    s[p] = (share){fn, arg, p};
    started[p] = pthread_create(&t[p], NULL, share_main, &s[p]) == 0;
    if (!started[p]) fn(arg, p, 2);
  }
  for (int p = 0; p < 2; p++)
    if (started[p]) pthread_join(t[p], NULL);
}

/* large enough that every split loop is split: B * NH and the parameter count both reach
 * cpu_mlp.c's PAR_MIN (2^17) */
enum { NIN = 256, NH = 512, NOUT = 10, B = 256, STEPS = 3 };

enum { DEAD = 16 }; /* input features that are always 0 when `subnormal` */

/* Trains STEPS Adam steps from fixed weights; the weights after them go to out. 0 on success.
 * With `subnormal`, the first DEAD input features are 0 and their W1 rows hold a subnormal
 * weight: their gradient is exactly 0, so Adam's update is p - 0, which with DAZ on the thread
 * that computes it gives 0 and without keeps the subnormal. */
static int train(void (*par)(cpu_task, void *), int ftz, int subnormal, float *out) {
  cpu_matmul_ops ops = naive_matmul_ops; /* the reference's products, this test's split */
  ops.parallel = par;
  mlp_spec s = {NIN,    NH,    NOUT, MLP_ACT_RELU, MLP_LOSS_SOFTMAX_CE, MLP_OPT_ADAM, 1e-3f, 0.9f,
                0.999f, 1e-8f, B};
  mlp_options o = {.ftz = ftz};
  char err[256];
  size_t n = mlp_param_count(&s);
  float *p = malloc(n * sizeof(float)), *x = malloc((size_t)B * NIN * sizeof(float));
  int32_t labels[B];
  void *c = cpu_mlp_create(&s, &o, &ops, err, sizeof err);
  int rc = -1;
  if (!c || !p || !x) goto done;
  unsigned r = 12345;
  for (size_t i = 0; i < n; i++) {
    r = r * 1103515245u + 12345u;
    p[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.2f;
  }
  for (size_t i = 0; i < (size_t)B * NIN; i++) {
    r = r * 1103515245u + 12345u;
    x[i] = subnormal && (int)(i % NIN) < DEAD ? 0.0f : (float)(r >> 8) / 16777216.0f;
  }
  if (subnormal)
    for (size_t i = 0; i < (size_t)DEAD * NH; i++) /* W1 rows 0..DEAD-1 lead the layout */
      p[i] = 1e-40f;
  for (int i = 0; i < B; i++)
    labels[i] = i % NOUT;
  mlp_batch b = {.x = x, .labels = labels, .n = B};
  if (cpu_mlp_set_params(c, p)) goto done;
  for (int k = 0; k < STEPS; k++)
    if (cpu_mlp_zero_grads(c) || cpu_mlp_forward_backward(c, &b, NULL) || cpu_mlp_step(c))
      goto done;
  rc = cpu_mlp_get_params(c, out);
done:
  if (rc) fprintf(stderr, "train: %s\n", c ? cpu_mlp_error(c) : err);
  if (c) cpu_mlp_destroy(c);
  free(p);
  free(x);
  return rc;
}

static size_t n_params(void) {
  mlp_spec s = {.n_in = NIN, .n_hidden = NH, .n_out = NOUT};
  return mlp_param_count(&s);
}

static size_t n_differ(const float *a, const float *b, size_t n) {
  size_t d = 0;
  for (size_t i = 0; i < n; i++)
    d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return d;
}

static void test_shares_match_serial(void) {
  size_t n = n_params();
  float *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
  T_CHECK(ref && got, "out of memory");
  for (int ftz = 0; ref && got && ftz < 2; ftz++) {
    T_CHECK(train(NULL, ftz, 0, ref) == 0, "serial, ftz %d", ftz);
    reversed_calls = 0;
    T_CHECK(train(par_reversed, ftz, 0, got) == 0, "reversed, ftz %d", ftz);
    /* each step splits its three large loops: bias+activation forward and backward, Adam */
    T_CHECK(reversed_calls == 3 * STEPS, "%d loops split in %d steps, not 3 per step",
            reversed_calls, STEPS);
    T_CHECK(n_differ(ref, got, n) == 0, "3 shares in reverse, ftz %d: %zu of %zu weights differ",
            ftz, n_differ(ref, got, n), n);
    T_CHECK(train(par_threads, ftz, 0, got) == 0, "threads, ftz %d", ftz);
    T_CHECK(n_differ(ref, got, n) == 0, "2 shares on threads, ftz %d: %zu of %zu weights differ",
            ftz, n_differ(ref, got, n), n);
    T_CHECK(train(par_drops_one, ftz, 0, got) == 0, "dropping, ftz %d", ftz);
    T_CHECK(n_differ(ref, got, n) > 0, "a split that drops a share went unnoticed (ftz %d)", ftz);
  }
  free(ref);
  free(got);
}

/* A share on a thread of its own flushes subnormals exactly when the calling thread does,
 * whatever that thread's own state. */
static void test_shares_flush_on_their_threads(void) {
  size_t n = n_params();
  float *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float)),
        *kept = malloc(n * sizeof(float));
  T_CHECK(ref && got && kept, "out of memory");
  if (ref && got && kept && !train(NULL, 1, 1, ref) && !train(par_threads, 1, 1, got) &&
      !train(NULL, 0, 1, kept)) {
    T_CHECK(n_differ(ref, kept, n) > 0, "the inputs made no subnormal: FTZ changed nothing");
    T_CHECK(n_differ(ref, got, n) == 0,
            "shares on threads: %zu of %zu weights differ from the "
            "serial step with FTZ (a share kept subnormals)",
            n_differ(ref, got, n), n);
#ifdef HAVE_MXCSR
    worker_csr = 0x1f80 | 0x8040; /* workers that flush, on a run that must not */
    T_CHECK(train(par_threads, 0, 1, got) == 0, "threads that flush");
    worker_csr = 0x1f80;
    T_CHECK(n_differ(kept, got, n) == 0,
            "FTZ off, shares on threads that flush: %zu of %zu weights differ from the serial "
            "step (a share flushed)",
            n_differ(kept, got, n), n);
#endif
  } else {
    T_CHECK(0, "training failed");
  }
  free(ref);
  free(got);
  free(kept);
}

int main(void) {
  T_RUN(test_shares_match_serial);
  T_RUN(test_shares_flush_on_their_threads);
  T_EXIT();
}
