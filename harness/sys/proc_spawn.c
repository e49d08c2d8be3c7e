#define _GNU_SOURCE
#include "proc_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"
#include "term_text.h"
#include "timer.h"

extern char **environ;

#define SPAWN_GRACE_S 2.0 /* SIGTERM first; SIGKILL if the group is still there after this */

int spawn_run(const char *const argv[], const char *tag, int show) {
  spawn_job j = {.argv = argv, .tag = tag, .show = show};
  return spawn_job_run(&j);
}

int spawn_run_env(const char *const argv[], char *const envp[], const char *tag, int show) {
  spawn_job j = {.argv = argv, .envp = envp, .tag = tag, .show = show};
  return spawn_job_run(&j);
}

/* The output's complete lines (and, at the end, a last partial one), each shown once. */
typedef struct {
  char buf[512];
  size_t n;
  int printed;
} line_sink;

static void sink_line(const spawn_job *j, line_sink *s) {
  char safe[600];
  s->buf[s->n] = '\0';
  if (j->tag && s->printed < j->show) {
    s->printed++;
    fprintf(stderr, "%s: %s\n", j->tag, term_text(safe, sizeof safe, s->buf));
  }
  s->n = 0;
}

static void sink_bytes(const spawn_job *j, line_sink *s, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\n' || s->n == sizeof s->buf - 1) sink_line(j, s);
    if (p[i] != '\n') s->buf[s->n++] = p[i];
  }
}

static int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : SPAWN_NO_START;
}

/* Stops the child's group: SIGTERM, then SIGKILL after the grace period; reaps the child. */
static int stop_group(pid_t pid, int *st) {
  kill(-pid, SIGTERM);
  double until = timer_now() + SPAWN_GRACE_S;
  while (timer_now() < until) {
    pid_t r = waitpid(pid, st, WNOHANG);
    if (r == pid) {
      kill(-pid, SIGKILL); /* whatever it left in its group */
      return 0;
    }
    if (r < 0 && errno != EINTR) return -1;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(-pid, SIGKILL);
  while (waitpid(pid, st, 0) < 0)
    if (errno != EINTR) return -1;
  return 0;
}

int proc_start(const proc_spec *s, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  if (s->report_fd >= 0) /* dup2 clears close-on-exec there */
    posix_spawn_file_actions_adddup2(&fa, s->report_fd, s->report_at);
  if (s->out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, s->out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, s->out_fd, 2);
  } else {
    posix_spawn_file_actions_adddup2(&fa, 2, 1); /* what it prints is no report */
  }
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_init(&at);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawnp(pid, s->path ? s->path : s->argv[0], &fa, &at, (char *const *)s->argv,
                        s->envp ? s->envp : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return rc;
}

/* What is left in the pipe once the child has exited, without waiting for a grandchild that
 * may still hold it open. */
static void drain(const spawn_job *j, line_sink *sink, int fd) {
  char chunk[4096];
  ssize_t got;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  while ((got = read(fd, chunk, sizeof chunk)) > 0 || (got < 0 && errno == EINTR))
    if (got > 0) sink_bytes(j, sink, chunk, (size_t)got);
}

int spawn_job_run(const spawn_job *j) {
  int fds[2], st = 0, eof = 0, timed_out = 0;
  pid_t pid;
  line_sink sink = {.n = 0};
  if (pipe2(fds, O_CLOEXEC) != 0) return SPAWN_NO_START;
  proc_spec ps = {.argv = j->argv, .envp = j->envp, .out_fd = fds[1], .report_fd = -1};
  int rc = proc_start(&ps, &pid);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    if (j->tag) fprintf(stderr, "%s: cannot start %s: %s\n", j->tag, j->argv[0], strerror(rc));
    return SPAWN_NO_START;
  }
  double deadline = j->timeout_s > 0 ? timer_now() + j->timeout_s : 0;
  for (;;) {
    if (mlpb_stop_signal || (deadline && timer_now() > deadline)) {
      timed_out = !mlpb_stop_signal;
      rc = stop_group(pid, &st);
      break;
    }
    struct pollfd pf = {.fd = eof ? -1 : fds[0], .events = POLLIN};
    /* 50 ms: how soon a stop or the child's exit is seen; a signal interrupts it at once */
    if (poll(&pf, 1, 50) > 0 && (pf.revents & (POLLIN | POLLHUP))) {
      char chunk[4096];
      ssize_t got = read(fds[0], chunk, sizeof chunk);
      if (got > 0) sink_bytes(j, &sink, chunk, (size_t)got);
      if (got == 0) eof = 1;
    }
    /* its end seen, not yet reaped: the group id cannot be reused until the reap, so what the
     * child left running in its group (a peer's subprocess, a plugin's fork) is stopped with
     * it and never outlives the run */
    siginfo_t si;
    si.si_pid = 0;
    int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && si.si_pid == pid) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (!eof) drain(j, &sink, fds[0]);
      rc = 0;
      break;
    }
    if (r < 0 && errno != EINTR) {
      rc = -1;
      break;
    }
  }
  close(fds[0]);
  if (sink.n) sink_line(j, &sink);
  if (rc) return SPAWN_NO_START;
  return timed_out ? SPAWN_TIMED_OUT : status_code(st);
}
