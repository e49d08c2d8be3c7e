/* interrupt.h: SIGINT/SIGTERM during a long run stop it between training steps, so that
 * `bench` can report what had finished and write nothing partial. */
#ifndef MLPB_INTERRUPT_H
#define MLPB_INTERRUPT_H

#include <signal.h>

extern volatile sig_atomic_t mlpb_stop_signal; /* 0, or the signal that asked to stop */

void interrupt_install(void);
/* The exit code for a stop by signal: 128 + the signal's number (130 SIGINT, 143 SIGTERM). */
int interrupt_exit_code(void);

#endif
