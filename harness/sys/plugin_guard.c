#define _GNU_SOURCE
#include "plugin_guard.h"

#include <fenv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "interrupt.h"
#include "term_text.h"
#include "timer.h"
#include "tmpdir.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GUARD_X86 1
/* MXCSR's control bits: exception masks, rounding, FTZ (bit 15), DAZ (bit 6); its low six
 * bits are sticky exception flags any arithmetic sets, not a setting */
#define MXCSR_CONTROL 0xffc0u
static unsigned x87_cw(void) {
  unsigned short cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  return cw;
}
static void x87_set_cw(unsigned cw) {
  unsigned short c = (unsigned short)cw;
  __asm__ volatile("fldcw %0" : : "m"(c));
}
#else
#define GUARD_X86 0
#endif

/* the call running now, for the exit guard: written before and after each call */
static const char *volatile cur_backend, *volatile cur_slot;
static int exit_armed = 1, hooked;
#define GUARD_REASSERT_US 1000
static long long reasserted_us = -GUARD_REASSERT_US; /* the first call re-asserts */

static void on_exit_in_call(void) {
  const char *slot = cur_slot, *be = cur_backend;
  if (!slot || !exit_armed) return;
  char b[64], s[64];
  /* one line, then nothing of ours: no buffered output flushed, temp folders removed */
  fprintf(stderr,
          "mlpbench: backend %s called exit() inside its %s slot: the run is abandoned, nothing "
          "written (exit 3)\n",
          term_text(b, sizeof b, be ? be : "?"), term_text(s, sizeof s, slot));
  fflush(stderr);
  tmpdir_remove_all();
  _exit(EXIT_RUNTIME);
}

void guard_exit_arm(int on) {
  exit_armed = on;
}

void guard_enter(guard_call *g, const char *backend, const char *slot) {
  if (!hooked) hooked = atexit(on_exit_in_call) == 0;
  g->backend = backend;
  g->slot = slot;
  g->what[0] = '\0';
#if GUARD_X86
  g->mxcsr = _mm_getcsr() & MXCSR_CONTROL;
  g->x87cw = x87_cw();
#else
  g->mxcsr = g->x87cw = 0;
#endif
  g->round = fegetround();
  g->prev_backend = cur_backend;
  g->prev_slot = cur_slot;
  cur_backend = backend;
  cur_slot = slot;
}

static const char *round_name(int r) {
  switch (r) {
  case FE_TONEAREST:
    return "to nearest";
#ifdef FE_UPWARD
  case FE_UPWARD:
    return "upward";
#endif
#ifdef FE_DOWNWARD
  case FE_DOWNWARD:
    return "downward";
#endif
#ifdef FE_TOWARDZERO
  case FE_TOWARDZERO:
    return "toward zero";
#endif
  }
  return "unknown";
}

static void add(char *buf, size_t len, const char *what) {
  size_t n = strlen(buf);
  snprintf(buf + n, len - n, "%s%s", n ? "; " : "", what);
}

int guard_leave(guard_call *g) {
  cur_backend = g->prev_backend;
  cur_slot = g->prev_slot;
  int changed = 0, r = fegetround();
  if (r != g->round) {
    char w[48];
    snprintf(w, sizeof w, "rounding mode %s", round_name(r));
    add(g->what, sizeof g->what, w);
    fesetround(g->round);
    changed = 1;
  }
#if GUARD_X86
  unsigned m = _mm_getcsr();
  if ((m & MXCSR_CONTROL) != g->mxcsr) {
    if ((m ^ g->mxcsr) & 0x8000u) add(g->what, sizeof g->what, m & 0x8000u ? "FTZ on" : "FTZ off");
    if ((m ^ g->mxcsr) & 0x0040u) add(g->what, sizeof g->what, m & 0x0040u ? "DAZ on" : "DAZ off");
    if ((m ^ g->mxcsr) & 0x1f80u) add(g->what, sizeof g->what, "SSE exception masks");
    if (!g->what[0]) add(g->what, sizeof g->what, "MXCSR");
    _mm_setcsr(g->mxcsr | (m & ~MXCSR_CONTROL)); /* its flags stay; our settings return */
    changed = 1;
  }
  if (x87_cw() != g->x87cw) {
    add(g->what, sizeof g->what, "x87 control word");
    x87_set_cw(g->x87cw);
    changed = 1;
  }
#endif
  /* three system calls (two sigaction reads, sigprocmask) cost about a microsecond: on a
   * per-step path that would be more than a toy net's step, so at most once a millisecond */
  long long now_us = (long long)(timer_now() * 1e6); /* the one clock (timer.c) */
  if (now_us - reasserted_us >= GUARD_REASSERT_US) {
    interrupt_reassert();
    reasserted_us = now_us;
  }
  return changed;
}
