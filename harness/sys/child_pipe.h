/* child_pipe.h: a child process that reports to us on a private pipe, with a deadline: for
 * running code we do not trust (a backend plugin under `mlpbench conform`) in a process of
 * its own, so its crash or hang is something we report, not something that happens to us.
 * An argv, never a shell.
 *
 * The child runs in a process group of its own, so whatever it starts is stopped with it.
 * Its reports travel on a pipe at a descriptor number of our choosing (the child learns it
 * from its argv), never on its stdout: its stdout and stderr are our stderr, so a library
 * that prints cannot forge a report. The end of its reports is decided by the child's exit,
 * never by the pipe's EOF alone: a grandchild that keeps the pipe open does not make a
 * finished child look hung. */
#ifndef MLPB_CHILD_PIPE_H
#define MLPB_CHILD_PIPE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
  pid_t pid;      /* also its process group's id */
  int fd;         /* the read end of its report pipe */
  int exited;     /* it has exited (its group was killed, the pipe drained); status holds */
  int status;     /* the wait status, once exited */
  char buf[8192]; /* what has been read and not yet taken as lines */
  size_t have;
} child_pipe;

/* Starts path with argv in a new process group, the report pipe's write end at descriptor
 * report_fd in it, stdin /dev/null, stdout and stderr our stderr, SIGINT/SIGTERM/SIGPIPE at
 * their defaults. 0, or -1 with errno set. */
int child_start(child_pipe *c, const char *path, char *const argv[], int report_fd);

/* The next whole report line (without its newline) into line, waiting until the deadline
 * (CLOCK_MONOTONIC seconds). 1: a line (*cut set when it did not fit in len or in the
 * buffer); 0: no more (the child exited, and its group is killed); -1: the deadline passed;
 * -2: we were asked to stop (interrupt.h's mlpb_stop_signal). */
int child_line(child_pipe *c, double deadline, char *line, size_t len, int *cut);

/* Kills its group (SIGKILL) unless it already exited, reaps it; returns the wait status. */
int child_finish(child_pipe *c);

#endif
