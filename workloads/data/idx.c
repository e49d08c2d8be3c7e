/* idx.c: IDX files (LeCun's MNIST format), raw or gzip, from disk or memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../io/file_read.h"
#include "dataset.h"

int gz_inflate(const uint8_t *in, size_t n, const char *name, uint8_t **out, size_t *outn,
               char *err, size_t len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    snprintf(err, len, "%s: zlib init failed", name);
    return -1;
  }
  size_t cap = n * 4 + 1024, used = 0;
  uint8_t *buf = NULL;
  int rc = Z_OK;
  zs.next_in = (Bytef *)in;
  for (;;) {
    if (used == cap || !buf) {
      size_t ncap = buf ? cap * 2 : cap;
      uint8_t *p = ncap <= MLPB_MAX_FILE ? realloc(buf, ncap) : NULL;
      if (!p) {
        snprintf(err, len, "%s: decompresses to over %zu bytes (too large or out of memory)", name,
                 cap);
        goto fail;
      }
      buf = p;
      cap = ncap;
    }
    /* zlib counts in uInt; feed at most 1 GiB at a time */
    size_t in_left = n - (size_t)((const uint8_t *)zs.next_in - in);
    zs.avail_in = (uInt)(in_left < (1u << 30) ? in_left : (1u << 30));
    zs.next_out = buf + used;
    zs.avail_out = (uInt)(cap - used < (1u << 30) ? cap - used : (1u << 30));
    uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    used += before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      /* gzip allows members one after another (`cat a.gz b.gz`): read them all */
      size_t rest = n - (size_t)((const uint8_t *)zs.next_in - in);
      if (rest == 0) break;
      if (rest >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      snprintf(err, len, "%s: %zu bytes of trailing garbage after the gzip data", name, rest);
      goto fail;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out > 0) {
      snprintf(err, len, "%s: truncated gzip stream (ends after %zu bytes of data)", name, used);
      goto fail;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      snprintf(err, len, "%s: corrupt gzip data (%s)", name, zs.msg ? zs.msg : "inflate failed");
      goto fail;
    }
  }
  inflateEnd(&zs);
  *out = buf;
  *outn = used;
  return 0;
fail:
  inflateEnd(&zs);
  free(buf);
  return -1;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int idx_decode(const uint8_t *buf, size_t n, const char *name, idx_array *out, char *err,
               size_t len) {
  memset(out, 0, sizeof *out);
  if (n < 4) {
    snprintf(err, len, "%s: truncated: %zu bytes, too short for an IDX header", name, n);
    return -1;
  }
  if (buf[0] != 0 || buf[1] != 0) {
    snprintf(err, len, "%s: not an IDX file (wrong magic 0x%08x)", name, be32(buf));
    return -1;
  }
  if (buf[2] != 0x08) {
    snprintf(err, len, "%s: IDX element type 0x%02x unsupported (only unsigned bytes, 0x08)", name,
             buf[2]);
    return -1;
  }
  int nd = buf[3];
  if (nd != 1 && nd != 3) {
    snprintf(err, len, "%s: IDX array with %d dimensions (expected 1 for labels, 3 for images)",
             name, nd);
    return -1;
  }
  size_t header = 4 + 4 * (size_t)nd;
  if (n < header) {
    snprintf(err, len, "%s: truncated: header needs %zu bytes, file has %zu", name, header, n);
    return -1;
  }
  size_t count = 1;
  for (int i = 0; i < nd; i++) {
    uint32_t d = be32(buf + 4 + 4 * i);
    if (d == 0 || d > (1u << 30)) {
      snprintf(err, len, "%s: bad IDX dimension %u (dimension %d)", name, d, i);
      return -1;
    }
    if (count > MLPB_MAX_FILE / d) {
      snprintf(err, len, "%s: IDX dimensions describe over %zu bytes", name, MLPB_MAX_FILE);
      return -1;
    }
    count *= d;
    out->dims[i] = (int)d;
  }
  if (n - header < count) {
    snprintf(err, len, "%s: truncated: header promises %zu data bytes, file has %zu", name, count,
             n - header);
    return -1;
  }
  if (n - header > count) {
    snprintf(err, len, "%s: %zu bytes of trailing data after the IDX array", name,
             n - header - count);
    return -1;
  }
  out->data = malloc(count);
  if (!out->data) {
    snprintf(err, len, "%s: out of memory (%zu bytes)", name, count);
    return -1;
  }
  memcpy(out->data, buf + header, count);
  out->ndim = nd;
  return 0;
}

int idx_load(const char *path, idx_array *out, char *err, size_t len) {
  uint8_t *raw = NULL, *plain = NULL;
  size_t nraw = 0, nplain = 0;
  if (file_read_all(path, &raw, &nraw, err, len)) return -1;
  int rc = -1;
  if (nraw >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
    if (gz_inflate(raw, nraw, path, &plain, &nplain, err, len)) goto done;
    rc = idx_decode(plain, nplain, path, out, err, len);
  } else {
    rc = idx_decode(raw, nraw, path, out, err, len);
  }
done:
  free(raw);
  free(plain);
  return rc;
}

int idx_to_dataset(idx_array *img, idx_array *lab, const char *img_name, const char *lab_name,
                   int test, mlpb_dataset *d, char *err, size_t len) {
  if (img->ndim != 3) {
    snprintf(err, len,
             "%s: wrong magic 0x%08x for an images file (expected 0x00000803; this holds a "
             "%d-dimensional array, a labels file?)",
             img_name, 0x800 | img->ndim, img->ndim);
    return -1;
  }
  if (lab->ndim != 1) {
    snprintf(err, len,
             "%s: wrong magic 0x%08x for a labels file (expected 0x00000801; this holds a "
             "%d-dimensional array, an images file?)",
             lab_name, 0x800 | lab->ndim, lab->ndim);
    return -1;
  }
  int n = img->dims[0];
  if (lab->dims[0] != n) {
    snprintf(err, len, "%s: %d labels for %d images in %s (count mismatch)", lab_name, lab->dims[0],
             n, img_name);
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (lab->data[i] >= MLPB_N_CLASSES) {
      snprintf(err, len, "%s: label %d at index %d is outside 0..%d", lab_name, lab->data[i], i,
               MLPB_N_CLASSES - 1);
      return -1;
    }
  if (test && (img->dims[1] != d->rows || img->dims[2] != d->cols)) {
    snprintf(err, len, "%s: %dx%d images, but the training images are %dx%d (size mismatch)",
             img_name, img->dims[1], img->dims[2], d->rows, d->cols);
    return -1;
  }
  d->rows = img->dims[1];
  d->cols = img->dims[2];
  if (test) {
    d->n_test = n;
    d->test_x = img->data;
    d->test_y = lab->data;
  } else {
    d->n_train = n;
    d->train_x = img->data;
    d->train_y = lab->data;
  }
  img->data = lab->data = NULL; /* ownership moved */
  return 0;
}
