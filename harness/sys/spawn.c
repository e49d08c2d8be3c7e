#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int spawn_run(const char *const argv[], const char *tag, int show) {
  return spawn_run_env(argv, environ, tag, show);
}

int spawn_run_env(const char *const argv[], char *const envp[], const char *tag, int show) {
  int fds[2];
  pid_t pid;
  posix_spawn_file_actions_t fa;
  if (pipe2(fds, O_CLOEXEC) != 0) return 127;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    if (tag) fprintf(stderr, "%s: cannot start %s: %s\n", tag, argv[0], strerror(rc));
    return 127;
  }
  FILE *out = fdopen(fds[0], "r");
  char line[512];
  int printed = 0;
  while (out && fgets(line, sizeof line, out))
    if (tag && printed < show) {
      printed++;
      fprintf(stderr, "%s: %s%s", tag, line, strchr(line, '\n') ? "" : "\n");
    }
  if (out)
    fclose(out);
  else
    close(fds[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 127;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 127;
}
