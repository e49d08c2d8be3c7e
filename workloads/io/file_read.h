/* file_read.h: the one careful way mlpbench reads a file: regular files only (a FIFO or a
 * device is refused without blocking), a size cap, a signature checked first. */
#ifndef MLPB_FILE_READ_H
#define MLPB_FILE_READ_H

#include <stddef.h>
#include <stdint.h>

#define MLPB_MAX_FILE ((size_t)1 << 31) /* file_read_all's cap: 2 GiB, compressed or not */

/* A whole regular file into memory (anything else, a FIFO or a device, is refused before a
 * byte is read), at most max bytes; with a magic, its first bytes must match it ("PATH: not
 * WHAT" otherwise) before the rest is read. The buffer has one byte more, a 0, after the
 * n it holds. */
int file_read_max(const char *path, size_t max, const uint8_t *magic, size_t n_magic,
                  const char *what, uint8_t **buf, size_t *n, char *err, size_t len);
/* file_read_max up to 2 GiB, any content. */
int file_read_all(const char *path, uint8_t **buf, size_t *n, char *err, size_t len);

#endif
