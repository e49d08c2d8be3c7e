#define _GNU_SOURCE
#include "child_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interrupt.h"
#include "proc_spawn.h"
#include "timer.h"

int child_start(child_pipe *c, const char *path, char *const argv[], int report_fd) {
  int p[2];
  memset(c, 0, sizeof *c);
  c->fd = -1;
  if (pipe2(p, O_CLOEXEC)) return -1;
  proc_spec ps = {.path = path,
                  .argv = (const char *const *)argv,
                  .out_fd = -1,
                  .report_fd = p[1],
                  .report_at = report_fd};
  int rc = proc_start(&ps, &c->pid);
  close(p[1]);
  if (rc) {
    close(p[0]);
    errno = rc;
    return -1;
  }
  c->fd = p[0];
  return 0;
}

/* a whole line from what has been read: moves it out of buf (a line longer than buf comes
 * out in pieces, each marked cut) */
static int take_line(child_pipe *c, char *line, size_t len, int at_end, int *cut) {
  char *nl = memchr(c->buf, '\n', c->have);
  size_t n = nl ? (size_t)(nl - c->buf) : c->have;
  if (!nl && !(at_end && c->have) && c->have < sizeof c->buf) return 0;
  size_t keep = n < len ? n : len - 1;
  *cut = keep < n || !nl;
  memcpy(line, c->buf, keep);
  line[keep] = '\0';
  size_t used = nl ? n + 1 : n;
  memmove(c->buf, c->buf + used, c->have - used);
  c->have -= used;
  return 1;
}

/* read what is there without waiting (the pipe is non-blocking once the child exited) */
static int read_some(child_pipe *c) {
  if (c->fd < 0 || c->have == sizeof c->buf) return 0;
  ssize_t got = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
  if (got > 0) c->have += (size_t)got;
  if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
    close(c->fd);
    c->fd = -1;
  }
  return got > 0;
}

/* The child exited (seen without reaping it, so its pid and group id cannot be reused yet):
 * its group is killed, then it is reaped, and the pipe is read without waiting from now on. */
static void on_exit_seen(child_pipe *c) {
  kill(-c->pid, SIGKILL);
  while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
    ;
  c->exited = 1;
  if (c->fd >= 0) fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

int child_line(child_pipe *c, double deadline, char *line, size_t len, int *cut) {
  for (;;) {
    if (take_line(c, line, len, c->exited && c->fd < 0, cut)) return 1;
    if (c->exited) {
      if (c->fd >= 0 && read_some(c)) continue;
      if (c->fd >= 0) { /* a grandchild outside the group holds the pipe: what came is all */
        close(c->fd);
        c->fd = -1;
      }
      if (take_line(c, line, len, 1, cut)) return 1;
      return 0;
    }
    if (mlpb_stop_signal) return -2;
    if (timer_now() >= deadline) return -1;
    /* 50 ms: how soon the child's exit or a stop is seen; a signal interrupts it at once */
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    if (poll(&pf, 1, 50) > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR))) read_some(c);
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == c->pid)
      on_exit_seen(c);
  }
}

int child_finish(child_pipe *c) {
  if (!c->exited) {
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL); /* in case it left its group */
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
      ;
    c->exited = 1;
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  return c->status;
}
