/* test_data.c: IDX, gzip, CSV+PNG and synthetic loaders, including every bad-input case:
 * each must fail with a message naming the file and the problem, never crash. */
#define _GNU_SOURCE
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../workloads/data/dataset.h"
#include "../workloads/io/file_read.h"
#include "t.h"

static char dir[64];

static void path_of(char *out, size_t len, const char *name) {
  snprintf(out, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t n, int gz) {
  char p[512];
  path_of(p, sizeof p, name);
  if (gz) {
    gzFile g = gzopen(p, "wb");
    gzwrite(g, data, (unsigned)n);
    gzclose(g);
  } else {
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
  }
}

/* An IDX buffer: magic type/ndim, dims, then count bytes of payload (value i % mod). */
static size_t make_idx(uint8_t *buf, int ndim, const int *dims, int mod) {
  size_t n = 4, count = 1;
  buf[0] = buf[1] = 0;
  buf[2] = 0x08;
  buf[3] = (uint8_t)ndim;
  for (int i = 0; i < ndim; i++) {
    buf[n++] = (uint8_t)(dims[i] >> 24);
    buf[n++] = (uint8_t)(dims[i] >> 16);
    buf[n++] = (uint8_t)(dims[i] >> 8);
    buf[n++] = (uint8_t)dims[i];
    count *= dims[i];
  }
  for (size_t i = 0; i < count; i++)
    buf[n++] = (uint8_t)(i % mod);
  return n;
}

static uint8_t img_buf[4 + 12 + 20 * 28 * 28 + 64], lab_buf[4 + 4 + 20 + 64];
static size_t img_n, lab_n;

/* A valid 20-image set in folder `sub` (gz or raw). */
static void make_set(const char *sub, int gz) {
  char p[512];
  path_of(p, sizeof p, sub);
  mkdir(p, 0777);
  int di[3] = {20, 28, 28}, dl[1] = {20};
  img_n = make_idx(img_buf, 3, di, 251);
  lab_n = make_idx(lab_buf, 1, dl, 10);
  char a[300], b[300];
  snprintf(a, sizeof a, "%s/train-images-idx3-ubyte%s", sub, gz ? ".gz" : "");
  snprintf(b, sizeof b, "%s/train-labels-idx1-ubyte%s", sub, gz ? ".gz" : "");
  write_file(a, img_buf, img_n, gz);
  write_file(b, lab_buf, lab_n, gz);
}

/* Loads dir/sub and expects failure with both substrings in the message. */
static void expect_fail(const char *sub, const char *want_file, const char *want_problem) {
  char p[512], err[1024] = "";
  mlpb_dataset d;
  path_of(p, sizeof p, sub);
  int rc = dataset_load(p, &d, err, sizeof err);
  T_CHECK(rc == -1, "loading %s should fail", sub);
  T_CHECK(strstr(err, want_file) != NULL, "message '%s' should name '%s'", err, want_file);
  T_CHECK(strstr(err, want_problem) != NULL, "message '%s' should say '%s'", err, want_problem);
}

static void test_embedded_digits(void) {
  mlpb_dataset d;
  char err[512];
  T_CHECK(dataset_load(NULL, &d, err, sizeof err) == 0, "%s", err);
  T_CHECK(d.n_train == 10000 && d.rows == 28 && d.cols == 28, "%d %dx%d", d.n_train, d.rows,
          d.cols);
  int counts[10] = {0};
  long ink = 0;
  for (int i = 0; i < d.n_train; i++)
    counts[d.train_y[i]]++;
  for (int i = 0; i < 784; i++)
    ink += d.train_x[i];
  for (int c = 0; c < 10; c++)
    T_CHECK(counts[c] > 800, "class %d has %d samples", c, counts[c]);
  T_CHECK(ink > 10000, "first image is blank (%ld)", ink);
  dataset_free(&d);
}

static void test_idx_roundtrip(void) {
  for (int gz = 0; gz < 2; gz++) {
    char sub[32], p[512], err[512];
    mlpb_dataset d;
    snprintf(sub, sizeof sub, "good%d", gz);
    make_set(sub, gz);
    path_of(p, sizeof p, sub);
    T_CHECK(dataset_load(p, &d, err, sizeof err) == 0, "%s", err);
    T_CHECK(d.n_train == 20 && d.n_test == 0, "n %d test %d", d.n_train, d.n_test);
    T_CHECK(memcmp(d.train_x, img_buf + 16, 20 * 784) == 0, "pixels differ");
    T_CHECK(memcmp(d.train_y, lab_buf + 8, 20) == 0, "labels differ");
    dataset_free(&d);
  }
}

static void test_idx_bad(void) {
  uint8_t b[sizeof img_buf];
  make_set("magic", 0);
  memcpy(b, img_buf, img_n);
  b[0] = 0x12;
  write_file("magic/train-images-idx3-ubyte", b, img_n, 0);
  expect_fail("magic", "magic/train-images-idx3-ubyte", "wrong magic");

  make_set("type", 0);
  memcpy(b, img_buf, img_n);
  b[2] = 0x0d;
  write_file("type/train-images-idx3-ubyte", b, img_n, 0);
  expect_fail("type", "type/train-images", "element type");

  make_set("trunc", 0);
  write_file("trunc/train-images-idx3-ubyte", img_buf, img_n - 100, 0);
  expect_fail("trunc", "trunc/train-images-idx3-ubyte", "truncated");

  make_set("trunchdr", 1);
  write_file("trunchdr/train-labels-idx1-ubyte.gz", lab_buf, 6, 1);
  expect_fail("trunchdr", "trunchdr/train-labels-idx1-ubyte.gz", "truncated");

  make_set("trail", 0);
  memcpy(b, img_buf, img_n);
  write_file("trail/train-images-idx3-ubyte", b, img_n + 7, 0);
  expect_fail("trail", "trail/train-images", "trailing");

  make_set("count", 1);
  int dl[1] = {19};
  size_t n = make_idx(b, 1, dl, 10);
  write_file("count/train-labels-idx1-ubyte.gz", b, n, 1);
  expect_fail("count", "count/train-labels-idx1-ubyte.gz", "count mismatch");

  make_set("label", 1);
  memcpy(b, lab_buf, lab_n);
  b[8 + 13] = 12;
  write_file("label/train-labels-idx1-ubyte.gz", b, lab_n, 1);
  expect_fail("label", "label/train-labels", "label 12 at index 13");

  make_set("ndim", 0);
  int d2[2] = {20, 784};
  n = make_idx(b, 2, d2, 7);
  write_file("ndim/train-images-idx3-ubyte", b, n, 0);
  expect_fail("ndim", "ndim/train-images", "dimensions");

  make_set("swap", 0); /* labels where images belong */
  write_file("swap/train-images-idx3-ubyte", lab_buf, lab_n, 0);
  expect_fail("swap", "swap/train-images", "wrong magic 0x00000801 for an images file");

  make_set("missing", 0);
  char p[512];
  path_of(p, sizeof p, "missing/train-labels-idx1-ubyte");
  unlink(p);
  expect_fail("missing", "missing/train-labels-idx1-ubyte", "missing file");
  expect_fail("nonexistent", "nonexistent", "no such file");

  make_set("testsize", 1);
  int dt[3] = {5, 20, 20}, dtl[1] = {5};
  n = make_idx(b, 3, dt, 9);
  write_file("testsize/t10k-images-idx3-ubyte.gz", b, n, 1);
  n = make_idx(b, 1, dtl, 10);
  write_file("testsize/t10k-labels-idx1-ubyte.gz", b, n, 1);
  expect_fail("testsize", "testsize/t10k-images", "size mismatch");
}

static void test_gzip_bad(void) {
  /* gzip a valid file, then cut it short and flip bytes in the deflate data */
  make_set("gztrunc", 1);
  uint8_t *raw = NULL;
  size_t n = 0;
  char p[512], err[512];
  path_of(p, sizeof p, "gztrunc/train-images-idx3-ubyte.gz");
  T_CHECK(file_read_all(p, &raw, &n, err, sizeof err) == 0, "%s", err);
  write_file("gztrunc/train-images-idx3-ubyte.gz", raw, n / 2, 0);
  expect_fail("gztrunc", "gztrunc/train-images-idx3-ubyte.gz", "truncated gzip");
  make_set("gzbad", 1);
  for (size_t i = 12; i < n - 8; i += 3)
    raw[i] ^= 0x5a;
  write_file("gzbad/train-images-idx3-ubyte.gz", raw, n, 0);
  expect_fail("gzbad", "gzbad/train-images-idx3-ubyte.gz", "gzip");
  free(raw);
}

/* PNGs written directly with libpng, in the formats the loader must convert. */
static void write_png(const char *path, int w, int h, int color, int depth, int value) {
  FILE *f = fopen(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, depth, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_color pal[2] = {{0, 0, 0}, {(png_byte)value, (png_byte)value, (png_byte)value}};
    png_set_PLTE(png, info, pal, 2);
  }
  png_write_info(png, info);
  int ch = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
  int bpc = depth == 16 ? 2 : 1;
  uint8_t row[28 * 3 * 2];
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w * ch; x++) {
      int v = color == PNG_COLOR_TYPE_PALETTE ? 1 : value;
      if (color == PNG_COLOR_TYPE_GRAY_ALPHA && x % 2) v = 255;
      if (bpc == 2) {
        row[2 * x] = (uint8_t)v;
        row[2 * x + 1] = (uint8_t)v;
      } else {
        row[x] = (uint8_t)v;
      }
    }
    png_write_row(png, row);
  }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  fclose(f);
}

static void test_png_formats(void) {
  struct {
    int color, depth;
  } fmts[] = {{PNG_COLOR_TYPE_GRAY, 8},
              {PNG_COLOR_TYPE_GRAY, 16},
              {PNG_COLOR_TYPE_RGB, 8},
              {PNG_COLOR_TYPE_PALETTE, 8},
              {PNG_COLOR_TYPE_GRAY_ALPHA, 8}};
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    char p[512], err[512];
    uint8_t *pix = NULL;
    int w = 0, h = 0;
    snprintf(p, sizeof p, "%s/fmt%zu.png", dir, i);
    write_png(p, 28, 28, fmts[i].color, fmts[i].depth, 200);
    T_CHECK(png_read_gray8(p, &pix, &w, &h, err, sizeof err) == 0, "%s", err);
    T_CHECK(w == 28 && h == 28, "%dx%d", w, h);
    if (pix) T_CHECK(abs(pix[0] - 200) <= 1, "format %zu reads %d, wrote 200", i, pix[0]);
    free(pix);
  }
}

static void test_csv_roundtrip_and_bad(void) {
  mlpb_dataset d, e;
  char err[1024], p[512], csv[600];
  memset(&d, 0, sizeof d);
  T_CHECK(synth_generate(30, &d, err, sizeof err) == 0, "%s", err);
  path_of(p, sizeof p, "csv");
  T_CHECK(dataset_export_png(&d, p, NULL, err, sizeof err) == 0, "%s", err);
  T_CHECK(dataset_load(p, &e, err, sizeof err) == 0, "%s", err);
  T_CHECK(e.n_train == 30 && e.rows == 28, "n %d", e.n_train);
  T_CHECK(memcmp(d.train_x, e.train_x, 30 * 784) == 0, "pixels differ after PNG round trip");
  T_CHECK(memcmp(d.train_y, e.train_y, 30) == 0, "labels differ after CSV round trip");
  dataset_free(&e);
  dataset_free(&d);

  struct {
    const char *content, *want;
  } bad[] = {
      {"filename,label\n00000.png,3\n00001.png\n", "train.csv:3: malformed"},
      {"filename,label\n00000.png,x3\n", "train.csv:2: malformed line: label is not"},
      {"filename,label\n00000.png,10\n", "label outside 0..9"},
      {"00000.png,1,2\n", "train.csv:1: malformed line: more than two"},
      {",4\n", "empty filename"},
      {"filename,label\nnope.png,1\n", "nope.png: cannot open image"},
      {"filename,label\n", "no images listed"},
  };
  snprintf(csv, sizeof csv, "%s/train.csv", p);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    FILE *f = fopen(csv, "w");
    fputs(bad[i].content, f);
    fclose(f);
    err[0] = '\0';
    T_CHECK(dataset_load(p, &e, err, sizeof err) == -1, "case %zu should fail", i);
    T_CHECK(strstr(err, bad[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err, bad[i].want);
  }
  /* not a PNG, a truncated PNG, and a PNG of another size */
  char img[600];
  snprintf(img, sizeof img, "%s/images/00001.png", p);
  FILE *f = fopen(img, "w");
  fputs("hello, not an image", f);
  fclose(f);
  f = fopen(csv, "w");
  fputs("00000.png,1\n00001.png,2\n", f);
  fclose(f);
  T_CHECK(dataset_load(p, &e, err, sizeof err) == -1 && strstr(err, "00001.png: not a PNG"), "%s",
          err);
  uint8_t *raw = NULL;
  size_t n = 0;
  snprintf(img, sizeof img, "%s/images/00002.png", p);
  T_CHECK(file_read_all(img, &raw, &n, err, sizeof err) == 0, "%s", err);
  snprintf(img, sizeof img, "%s/images/00001.png", p);
  f = fopen(img, "wb");
  fwrite(raw, 1, n / 2, f);
  fclose(f);
  free(raw);
  T_CHECK(dataset_load(p, &e, err, sizeof err) == -1 && strstr(err, "00001.png: corrupt PNG"), "%s",
          err);
  write_png(img, 20, 20, PNG_COLOR_TYPE_GRAY, 8, 9);
  T_CHECK(dataset_load(p, &e, err, sizeof err) == -1 && strstr(err, "size mismatch"), "%s", err);
}

static void test_synthetic(void) {
  mlpb_dataset a, b, c;
  char err[512];
  T_CHECK(dataset_load("synthetic:500", &a, err, sizeof err) == 0, "%s", err);
  T_CHECK(dataset_load("synthetic:500", &b, err, sizeof err) == 0, "%s", err);
  T_CHECK(dataset_load("synthetic:501", &c, err, sizeof err) == 0, "%s", err);
  T_CHECK(a.hash == b.hash, "same N, different data");
  T_CHECK(memcmp(a.train_x, c.train_x, 500 * 784) == 0, "a longer set should extend, not change");
  int counts[10] = {0};
  for (int i = 0; i < 500; i++)
    counts[a.train_y[i]]++;
  for (int k = 0; k < 10; k++)
    T_CHECK(counts[k] > 20, "class %d: %d samples", k, counts[k]);
  dataset_free(&c);
  T_CHECK(dataset_load("synthetic:0", &c, err, sizeof err) == -1, "size 0 accepted");
  T_CHECK(dataset_load("synthetic:12x", &c, err, sizeof err) == -1, "bad size accepted");
  dataset_free(&a);
  dataset_free(&b);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mlpb-test-data-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  T_RUN(test_embedded_digits);
  T_RUN(test_idx_roundtrip);
  T_RUN(test_idx_bad);
  T_RUN(test_gzip_bad);
  T_RUN(test_png_formats);
  T_RUN(test_csv_roundtrip_and_bad);
  T_RUN(test_synthetic);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  T_EXIT();
}
