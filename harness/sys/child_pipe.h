/* child_pipe.h: a child process whose stdout we read, with a deadline: for running code we
 * do not trust (a backend plugin under `mlpbench conform`) in a process of its own, so its
 * crash or hang is something we report, not something that happens to us. An argv, never a
 * shell. */
#ifndef MLPB_CHILD_PIPE_H
#define MLPB_CHILD_PIPE_H

#include <sys/types.h>

typedef struct {
  pid_t pid;
  int fd;         /* the read end of its stdout */
  char buf[8192]; /* a partial line */
  size_t have;
} child_pipe;

/* Starts path with argv (its stderr is ours); 0, or -1 with errno set. */
int child_start(child_pipe *c, const char *path, char *const argv[]);

/* The next whole line of its stdout (without the newline) into line, waiting until the
 * deadline (CLOCK_MONOTONIC seconds). 1: a line; 0: end of output; -1: the deadline passed. */
int child_line(child_pipe *c, double deadline, char *line, size_t len);

/* Kills it (SIGKILL) if kill is set, then reaps it; returns the wait status. */
int child_finish(child_pipe *c, int kill_it);

#endif
