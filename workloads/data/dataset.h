/* dataset.h: MNIST-shaped data sets (28x28-ish gray bytes, labels 0..9) from IDX files,
 * a CSV+PNG folder, the embedded digits, or the synthetic generator. Loaders report bad
 * input as "FILE: problem" and return -1; nothing here exits or aborts. */
#ifndef MLPB_DATASET_H
#define MLPB_DATASET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MLPB_N_CLASSES 10
/* What a loader or a workload's build returns, instead of -1, when the failure was memory:
 * the harness then exits 3 (a runtime failure), not 2 (bad input). */
#define MLPB_ERR_NOMEM (-2)
#define MLPB_FASHION_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
  char name[64];    /* "mnist-digits-10k", "fashion-mnist", "synthetic:N", or the path */
  char source[512]; /* where it came from */
  int rows, cols;
  int n_train;
  uint8_t *train_x; /* (n_train, rows*cols) */
  uint8_t *train_y; /* (n_train) */
  int n_test;       /* 0 when the set has no test file */
  uint8_t *test_x;
  uint8_t *test_y;
  uint64_t hash; /* FNV-1a of the contents, for results */
} mlpb_dataset;

/* spec: NULL or "digits" (embedded), "fashion", "synthetic:N", a folder, or a .csv file. */
int dataset_load(const char *spec, mlpb_dataset *d, char *err, size_t len);
void dataset_free(mlpb_dataset *d);

/* Keeps the first n training samples (n < n_train); for quick runs. */
void dataset_truncate(mlpb_dataset *d, int n);

/* ---- pieces, exposed for tests and fuzzing ---- */

typedef struct {
  int ndim;
  int dims[3];
  uint8_t *data; /* owned, product(dims) bytes */
} idx_array;

int gz_inflate(const uint8_t *in, size_t n, const char *name, uint8_t **out, size_t *outn,
               char *err, size_t len);
int idx_decode(const uint8_t *buf, size_t n, const char *name, idx_array *out, char *err,
               size_t len);
int idx_load(const char *path, idx_array *out, char *err, size_t len);
/* Checks that images (N, rows, cols) and labels (N) match and labels are 0..9; fills d. */
int idx_to_dataset(idx_array *img, idx_array *lab, const char *img_name, const char *lab_name,
                   int test, mlpb_dataset *d, char *err, size_t len);

int csv_dataset_load(const char *csv_path, mlpb_dataset *d, char *err, size_t len);
int png_read_gray8(const char *path, uint8_t **pix, int *w, int *h, char *err, size_t len);
/* The same from memory; any colour type and depth comes out as 8-bit gray. */
int png_decode_gray8(const uint8_t *buf, size_t n, const char *name, uint8_t **pix, int *w, int *h,
                     char *err, size_t len);
/* One CSV data line "filename,label" (modified in place); 0, or -1 with why. */
int csv_parse_line(char *line, char **name, int *label, const char **why);
int png_write_gray8(const char *path, const uint8_t *pix, int w, int h, char *err, size_t len);
/* Writes dir/train.csv and dir/images/NNNNN.png for the training samples: all of it into a
 * private folder beside dir, renamed into place at the end, so dir holds a whole export or
 * what it held before. An existing dir is replaced only if it holds nothing but an earlier
 * export. -2 when *stop became non-zero (nothing is left behind), -1 on error. */
int dataset_export_png(const mlpb_dataset *d, const char *dir, const volatile sig_atomic_t *stop,
                       char *err, size_t len);

int synth_generate(int n, mlpb_dataset *d, char *err, size_t len);

/* The embedded digits (gzip bytes linked into the binary). */
extern const unsigned char mlpb_digits_images[], mlpb_digits_labels[];
extern const uint64_t mlpb_digits_images_size, mlpb_digits_labels_size;

#endif
