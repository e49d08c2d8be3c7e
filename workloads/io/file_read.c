/* file_read.c: whole files into memory, refusing what is not a regular file before a byte
 * is read. */
#define _GNU_SOURCE
#include "file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_max(const char *path, size_t max, const uint8_t *magic, size_t n_magic,
                  const char *what, uint8_t **buf, size_t *n, char *err, size_t len) {
  struct stat st;
  uint8_t *data = NULL;
  /* O_NONBLOCK: opening a FIFO must not hang; only regular files are read */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, len, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, len, "%s: not a regular file", path);
    goto fail;
  }
  if ((uint64_t)st.st_size > max) {
    snprintf(err, len, "%s: %lld bytes, over the %zu-byte limit for %s", path,
             (long long)st.st_size, max, what);
    goto fail;
  }
  size_t size = (size_t)st.st_size, used = 0;
  data = malloc(size + 1); /* one more: text readers may end the last line in place */
  if (!data) {
    snprintf(err, len, "%s: out of memory (%zu bytes)", path, size);
    goto fail;
  }
  while (used < size) {
    /* the signature first, so a wrong file is refused before the rest is read */
    size_t want = used < n_magic ? n_magic - used : size - used;
    ssize_t got = read(fd, data + used, want);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    used += (size_t)got;
    if (n_magic && used == n_magic && memcmp(data, magic, n_magic) != 0) {
      snprintf(err, len, "%s: not %s", path, what);
      goto fail;
    }
  }
  if (used != size) {
    snprintf(err, len, "%s: read error (file changed while read?)", path);
    goto fail;
  }
  if (n_magic && used < n_magic) {
    snprintf(err, len, "%s: not %s", path, what);
    goto fail;
  }
  close(fd);
  data[used] = 0;
  *buf = data;
  *n = used;
  return 0;
fail:
  close(fd);
  free(data);
  return -1;
}

int file_read_all(const char *path, uint8_t **buf, size_t *n, char *err, size_t len) {
  return file_read_max(path, MLPB_MAX_FILE, NULL, 0, "a data file", buf, n, err, len);
}
