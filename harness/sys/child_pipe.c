#define _GNU_SOURCE
#include "child_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int child_start(child_pipe *c, const char *path, char *const argv[]) {
  int p[2];
  posix_spawn_file_actions_t fa;
  memset(c, 0, sizeof *c);
  c->fd = -1;
  if (pipe2(p, O_CLOEXEC)) return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1); /* dup2 clears close-on-exec on fd 1 */
  int rc = posix_spawn(&c->pid, path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (rc) {
    close(p[0]);
    errno = rc;
    return -1;
  }
  c->fd = p[0];
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* a whole line from what has been read: moves it out of buf */
static int take_line(child_pipe *c, char *line, size_t len, int at_eof) {
  char *nl = memchr(c->buf, '\n', c->have);
  size_t n = nl ? (size_t)(nl - c->buf) : c->have;
  if (!nl && !(at_eof && c->have) && c->have < sizeof c->buf) return 0;
  size_t keep = n < len ? n : len - 1;
  memcpy(line, c->buf, keep);
  line[keep] = '\0';
  size_t used = nl ? n + 1 : n;
  memmove(c->buf, c->buf + used, c->have - used);
  c->have -= used;
  return 1;
}

int child_line(child_pipe *c, double deadline, char *line, size_t len) {
  for (;;) {
    if (take_line(c, line, len, 0)) return 1;
    double left = deadline - now();
    if (left <= 0) return -1;
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&pf, 1, (int)(left * 1000) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue; /* the deadline check above decides */
    ssize_t got = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return take_line(c, line, len, 1);
    c->have += (size_t)got;
  }
}

int child_finish(child_pipe *c, int kill_it) {
  int status = 0;
  if (kill_it) kill(c->pid, SIGKILL);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}
