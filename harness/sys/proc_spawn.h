/* proc_spawn.h: the one way mlpbench starts another program (named so, not spawn.h, to
 * stay apart from POSIX <spawn.h>). proc_start launches; spawn_job_run runs a helper program
 * (gnuplot, python, a bench process) to its end; child_pipe.h's children (conform) start
 * through proc_start too. An argv and posix_spawnp. No shell is ever involved, so nothing in a
 * path, a name or a results file can become a command. Every helper runs under a deadline and in
 * its own process group: when the deadline passes, or this process is asked to stop
 * (SIGINT/SIGTERM, interrupt.h), the whole group gets SIGTERM, then SIGKILL after a grace period,
 * so a hung peer or a child's own children can never outlive us. */
#ifndef MLPB_PROC_SPAWN_H
#define MLPB_PROC_SPAWN_H

#include <sys/types.h>

#define SPAWN_TIMED_OUT 124 /* the deadline passed and the helper was killed (as timeout(1)) */
#define SPAWN_NO_START 127

/* Where a started program's descriptors go. Always: stdin /dev/null, a process group of its
 * own (a stop reaches its children too), SIGINT/SIGTERM/SIGPIPE at their defaults (an ignored
 * one would otherwise be inherited), our environment unless envp. */
typedef struct {
  const char *path; /* the program; NULL: argv[0], a path or a name looked up in PATH */
  const char *const *argv;
  char *const *envp; /* NULL: this process's environment */
  int out_fd;        /* >= 0: its stdout and stderr; else its stdout goes to our stderr */
  int report_fd;     /* >= 0: this descriptor at report_at in it (a private pipe) */
  int report_at;
} proc_spec;

/* 0 and *pid (also its group's id), or an errno value. */
int proc_start(const proc_spec *s, pid_t *pid);

typedef struct {
  const char *const *argv; /* argv[0] is looked up in PATH */
  char *const *envp;       /* NULL: this process's environment */
  const char *tag;         /* with a tag, the first `show` output lines go to our stderr */
  int show;
  double timeout_s; /* 0: none (still stopped by a signal) */
} spawn_job;

/* Runs the job and waits. Its stdout and stderr are read through a pipe: with a tag, the first
 * `show` lines go to our stderr as "tag: line" (terminal-safe), the rest are dropped. Returns
 * the exit status, SPAWN_NO_START when it could not start, SPAWN_TIMED_OUT past its deadline,
 * 128+N when killed by signal N (also when we forwarded a stop). */
int spawn_job_run(const spawn_job *j);
/* Shorthands: no deadline but a stop signal. */
int spawn_run(const char *const argv[], const char *tag, int show);
int spawn_run_env(const char *const argv[], char *const envp[], const char *tag, int show);

#endif
