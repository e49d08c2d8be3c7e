/* sha256.h: SHA-256 (FIPS 180-4) of a file, as 64 lowercase hex digits: what identifies a
 * plugin's shared library in a results file (the same digest `sha256sum` prints). */
#ifndef MLPB_SHA256_H
#define MLPB_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  uint64_t bytes;
  unsigned char buf[64];
  size_t n;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_hex(sha256_ctx *c, char out[65]); /* finishes c */

/* The file's digest into out; 0, or -1 with errno set (unreadable). */
int sha256_file(const char *path, char out[65]);

#endif
