#define _GNU_SOURCE
#include "core_rtt.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "timer.h"

enum { BATCHES = 4, ROUNDS = 500 };

typedef struct {
  _Alignas(64) atomic_long ball; /* odd: the partner's turn; even: the caller's */
  _Alignas(64) atomic_int quit;
  int cpu;
} court;

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  (void)pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *partner(void *arg) {
  court *c = arg;
  pin(c->cpu);
  while (!atomic_load_explicit(&c->quit, memory_order_acquire)) {
    long b = atomic_load_explicit(&c->ball, memory_order_acquire);
    if (b & 1) atomic_store_explicit(&c->ball, b + 1, memory_order_release);
  }
  return NULL;
}

double core_rtt_ns(double budget_s) {
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) || CPU_COUNT(&mine) < 2) return NAN;
  /* always the same two CPUs, the first two it may run on: between two probes of a row only
   * the host's placement of them can change, not which pair was asked (on a two-socket
   * machine two pairs chosen by where the caller happened to run could differ tenfold) */
  int here = -1, there = -1;
  for (int i = 0; i < CPU_SETSIZE && there < 0; i++)
    if (CPU_ISSET(i, &mine)) *(here < 0 ? &here : &there) = i;
  if (there < 0) return NAN;
  court c = {.cpu = there};
  atomic_init(&c.ball, 0);
  atomic_init(&c.quit, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, partner, &c)) return NAN;
  pin(here); /* so the two ends stay on two CPUs for the measurement */
  double best = INFINITY, deadline = timer_now() + budget_s;
  long ball = 0;
  for (int b = 0; b < BATCHES && timer_now() < deadline; b++) {
    double t0 = timer_now();
    int r = 0, late = 0;
    for (; r < ROUNDS && !late; r++) {
      atomic_store_explicit(&c.ball, ++ball, memory_order_release);
      for (long spins = 1; atomic_load_explicit(&c.ball, memory_order_acquire) == ball; spins++)
        if ((spins & 1023) == 0 && timer_now() > deadline) {
          late = 1; /* the partner got no time slice: what was measured stands */
          break;
        }
      ball++;
    }
    r -= late;
    double ns = r > 0 ? (timer_now() - t0) / r * 1e9 : INFINITY;
    best = ns < best ? ns : best;
  }
  atomic_store_explicit(&c.quit, 1, memory_order_release);
  pthread_join(t, NULL);
  (void)pthread_setaffinity_np(pthread_self(), sizeof mine, &mine);
  return isfinite(best) ? best : NAN;
}

int core_rtt_moved(double start_ns, double end_ns) {
  if (!isfinite(start_ns) || !isfinite(end_ns) || start_ns <= 0 || end_ns <= 0) return 0;
  double lo = start_ns < end_ns ? start_ns : end_ns, hi = start_ns < end_ns ? end_ns : start_ns;
  return hi > CORE_RTT_RATIO * lo && hi > CORE_RTT_FAR_NS;
}
