#define _GNU_SOURCE
#include "child_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interrupt.h"
#include "timer.h"

extern char **environ;

int child_start(child_pipe *c, const char *path, char *const argv[], int report_fd) {
  int p[2];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  memset(c, 0, sizeof *c);
  c->fd = -1;
  if (pipe2(p, O_CLOEXEC)) return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], report_fd); /* clears close-on-exec there */
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, 2, 1); /* what the plugin prints is no report */
  posix_spawnattr_init(&at);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawn(&c->pid, path, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
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
