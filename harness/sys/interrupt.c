#define _POSIX_C_SOURCE 200809L
#include "interrupt.h"

#include <string.h>

volatile sig_atomic_t mlpb_stop_signal;
static int installed;

static void on_signal(int sig) {
  mlpb_stop_signal = sig;
}

void interrupt_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  installed = 1;
}

void interrupt_reassert(void) {
  if (!installed) return;
  struct sigaction cur;
  for (int i = 0; i < 2; i++) { /* a call that replaced or ignored a handler: ours again */
    int sig = i ? SIGTERM : SIGINT;
    if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler != on_signal) interrupt_install();
  }
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGINT);
  sigaddset(&both, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &both, NULL); /* on the calling thread: the one that waits */
}

int interrupt_exit_code(void) {
  return 128 + (int)mlpb_stop_signal;
}
