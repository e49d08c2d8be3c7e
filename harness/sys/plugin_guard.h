/* plugin_guard.h: what the harness keeps for itself around a call into code it does not own
 * (a plugin's slot): its floating-point environment, its SIGINT/SIGTERM handlers, and its exit.
 *
 *   guard_call g;
 *   guard_enter(&g, "mine", "forward_backward");
 *   rc = plugin->forward_backward(...);
 *   if (guard_leave(&g)) ... the call changed the FP environment: g.what says how
 *
 * guard_enter saves the FP environment (the rounding mode; on x86 the MXCSR's FTZ, DAZ,
 * rounding and exception masks, and the x87 control word) and records which backend and slot
 * run. guard_leave puts the environment back when the call left it changed (so later rows
 * compute as before), re-installs the stop handlers (interrupt.h) when they were installed,
 * and unblocks SIGINT and SIGTERM (at most once a millisecond: three system calls, about a
 * microsecond, would outweigh a toy net's whole step; so a stop sent within a millisecond of
 * the call that ignored it can still be lost, as one sent during that call is). While a call runs,
 * exit() from it is caught: an atexit handler prints one line naming the backend and the slot,
 * removes the temporary folders and ends the process with exit status 3 (EXIT_RUNTIME), writing
 * nothing more (stdio is not flushed: no partial output). guard_exit_arm(0) turns that off
 * (conform's children, whose parent reports how they ended). */
#ifndef MLPB_PLUGIN_GUARD_H
#define MLPB_PLUGIN_GUARD_H

typedef struct {
  const char *backend, *slot;
  const char *prev_backend, *prev_slot; /* a guarded call inside another (none today) */
  unsigned mxcsr, x87cw;
  int round;
  char what[96]; /* guard_leave: what changed ("rounding mode upward; FTZ on") */
} guard_call;

void guard_enter(guard_call *g, const char *backend, const char *slot);
/* 0, or 1 when the call changed the FP environment (restored; g->what says what). */
int guard_leave(guard_call *g);

/* Whether exit() inside a guarded call ends the process with status 3 (default: yes). */
void guard_exit_arm(int on);

#endif
