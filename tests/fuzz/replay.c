/* replay.c: runs a fuzz target's entry point over files and folders, so that the seed
 * corpus and every input that ever crashed it run in the ordinary test suite (and under
 * the sanitizers in the sanitizer build) without libFuzzer. */
#define _DEFAULT_SOURCE
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
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 1;
}

int main(int argc, char **argv) {
  int files = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      files += replay_file(argv[i]) > 0;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      files += replay_file(path) > 0;
    }
    if (d) closedir(d);
  }
  printf("replayed %d inputs without a crash\n", files);
  return files > 0 ? 0 : 1;
}
