#define _GNU_SOURCE
#include "tmpdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../workloads/io/outfile.h"

#define TMPDIR_MAX 16 /* folders alive at once: bench holds at most three */

static char live[TMPDIR_MAX][4096];

static void remove_live(void) {
  for (int i = 0; i < TMPDIR_MAX; i++)
    if (live[i][0]) {
      rmtree(live[i]);
      live[i][0] = '\0';
    }
}

static const char *base_dir(void) {
  const char *t = getenv("TMPDIR");
  struct stat st;
  /* a relative or missing $TMPDIR is ignored, as mkstemp's callers in coreutils do */
  if (t && t[0] == '/' && strlen(t) < 3000 && stat(t, &st) == 0 && S_ISDIR(st.st_mode)) return t;
  return "/tmp";
}

int tmpdir_make(char *out, size_t len, const char *prefix, char *err, size_t elen) {
  static int hooked;
  int slot = -1;
  for (int i = 0; i < TMPDIR_MAX && slot < 0; i++)
    if (!live[i][0]) slot = i;
  const char *base = base_dir();
  size_t bl = strlen(base);
  while (bl > 1 && base[bl - 1] == '/')
    bl--;
  int n = snprintf(out, len, "%.*s/mlpbench-%s-XXXXXX", (int)bl, base, prefix);
  if (slot < 0 || n < 0 || (size_t)n >= len || (size_t)n >= sizeof live[0]) {
    snprintf(err, elen, "no temporary folder: %s", slot < 0 ? "too many at once" : "path too long");
    out[0] = '\0';
    return -1;
  }
  if (!mkdtemp(out)) {
    snprintf(err, elen, "no temporary folder in %.*s: %s", (int)bl, base, strerror(errno));
    out[0] = '\0';
    return -1;
  }
  if (!hooked) hooked = atexit(remove_live) == 0;
  snprintf(live[slot], sizeof live[slot], "%s", out);
  return 0;
}

int tmpdir_remove(const char *dir) {
  for (int i = 0; i < TMPDIR_MAX; i++)
    if (live[i][0] && strcmp(live[i], dir) == 0) live[i][0] = '\0';
  return rmtree(dir);
}

void tmpdir_remove_all(void) {
  remove_live();
}
