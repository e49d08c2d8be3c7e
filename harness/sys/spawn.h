/* spawn.h: runs a helper program (gnuplot, python) from an argv with posix_spawnp. No shell
 * is ever involved, so nothing in a path, a name or a results file can become a command. */
#ifndef MLPB_SPAWN_H
#define MLPB_SPAWN_H

/* Runs argv[0] (looked up in PATH) and waits. Its stdout and stderr are read through a pipe:
 * with `tag`, the first `show` lines go to our stderr as "tag: line", the rest are dropped;
 * without, everything is discarded. Returns the exit status, 127 when it could not start,
 * 128+N when killed by signal N. */
int spawn_run(const char *const argv[], const char *tag, int show);
/* The same with an environment of its own (NULL-terminated "NAME=value" strings). */
int spawn_run_env(const char *const argv[], char *const envp[], const char *tag, int show);

#endif
