/* interrupt.h: SIGINT/SIGTERM during a long run stop it between training steps, so that
 * `bench` can report what had finished and write nothing partial. */
#ifndef MLPB_INTERRUPT_H
#define MLPB_INTERRUPT_H

#include <signal.h>

extern volatile sig_atomic_t mlpb_stop_signal; /* 0, or the signal that asked to stop */

void interrupt_install(void);
/* After code the harness does not own ran (a plugin's slot): the handlers installed again
 * where it replaced or ignored them, and SIGINT/SIGTERM unblocked. A no-op before
 * interrupt_install. */
void interrupt_reassert(void);
/* The exit code for a stop by signal: 128 + the signal's number (130 SIGINT, 143 SIGTERM). */
int interrupt_exit_code(void);

#endif
