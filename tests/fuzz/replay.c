/* replay.c: runs a fuzz target's entry point over files and folders, so that the seed
 * corpus and every input that ever crashed it run in the ordinary test suite (and under
 * the sanitizers in the sanitizer build) without libFuzzer. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../workloads/data/dataset.h"
#include "../../workloads/io/file_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  uint8_t *buf = NULL;
  size_t n = 0;
  char err[512];
  if (file_read_all(path, &buf, &n, err, sizeof err)) {
    fprintf(stderr, "replay: %s\n", err);
    return -1;
  }
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

/* Every input named, as absolute paths, listed before the first one runs: a target may change
 * the working folder (fuzz_argv's bench runs do), and relative names must still find theirs. */
static int add(char ***list, int *n, const char *path) {
  char *abs = realpath(path, NULL), **l = realloc(*list, (size_t)(*n + 1) * sizeof **list);
  if (!abs || !l) {
    fprintf(stderr, "replay: %s: cannot resolve it\n", path);
    free(abs);
    if (l) *list = l;
    return -1;
  }
  *list = l;
  l[(*n)++] = abs;
  return 0;
}

int main(int argc, char **argv) {
  char **list = NULL;
  int n = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) { /* a target with no kept crash has no regress folder */
      fprintf(stderr, "replay: %s: not there, skipped\n", argv[i]);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad += add(&list, &n, argv[i]) != 0;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      bad += add(&list, &n, path) != 0;
    }
    if (d) closedir(d);
  }
  int done = 0;
  for (int i = 0; i < n; i++) {
    int rc = replay_file(list[i]);
    done += rc == 0;
    bad += rc != 0;
    free(list[i]);
  }
  free(list);
  /* stderr: a target may have sent stdout to /dev/null */
  fprintf(stderr, "replayed %d of %d inputs without a crash; %d could not be read\n", done, n + bad,
          bad);
  return done > 0 && bad == 0 ? 0 : 1;
}
