#define _POSIX_C_SOURCE 200809L
#include "interrupt.h"

#include <string.h>

volatile sig_atomic_t mlpb_stop_signal;

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
}

int interrupt_exit_code(void) {
  return 128 + (int)mlpb_stop_signal;
}
