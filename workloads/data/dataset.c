/* dataset.c: resolves --data to a loader and hashes what it loaded. */
#include "dataset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

static void dataset_hash(mlpb_dataset *d) {
  size_t px = (size_t)d->rows * d->cols;
  uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv1a(h, d->train_x, (size_t)d->n_train * px);
  h = fnv1a(h, d->train_y, (size_t)d->n_train);
  if (d->n_test) {
    h = fnv1a(h, d->test_x, (size_t)d->n_test * px);
    h = fnv1a(h, d->test_y, (size_t)d->n_test);
  }
  d->hash = h;
}

static int idx_from_memory(const unsigned char *img, size_t nimg, const unsigned char *lab,
                           size_t nlab, mlpb_dataset *d, char *err, size_t len) {
  idx_array ai = {0}, al = {0};
  uint8_t *pi = NULL, *pl = NULL;
  size_t ni = 0, nl = 0;
  int rc = -1;
  if (gz_inflate(img, nimg, "embedded train-images-idx3-ubyte.gz", &pi, &ni, err, len) ||
      gz_inflate(lab, nlab, "embedded train-labels-idx1-ubyte.gz", &pl, &nl, err, len) ||
      idx_decode(pi, ni, "embedded train-images", &ai, err, len) ||
      idx_decode(pl, nl, "embedded train-labels", &al, err, len) ||
      idx_to_dataset(&ai, &al, "embedded train-images", "embedded train-labels", 0, d, err, len))
    goto done;
  rc = 0;
done:
  free(pi);
  free(pl);
  free(ai.data);
  free(al.data);
  return rc;
}

/* "dir/name" into out (PATH_MAX); 0, or -1 with a message when it does not fit. */
static int join(char *out, const char *dir, const char *name, char *err, size_t len) {
  int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
  if (n < 0 || n >= PATH_MAX) {
    snprintf(err, len, "%.200s...: path longer than %d bytes", dir, PATH_MAX - 1);
    return -1;
  }
  return 0;
}

/* dir/base or dir/base.gz, whichever exists; 0 if neither, -1 if the path is too long. */
static int find_idx(const char *dir, const char *base, char *out, char *err, size_t len) {
  char gz[64];
  snprintf(gz, sizeof gz, "%s.gz", base);
  if (join(out, dir, base, err, len)) return -1;
  if (exists(out)) return 1;
  if (join(out, dir, gz, err, len)) return -1;
  return exists(out);
}

static int load_pair(const char *ip, const char *lp, int test, mlpb_dataset *d, char *err,
                     size_t len) {
  idx_array ai = {0}, al = {0};
  int rc = -1;
  if (idx_load(ip, &ai, err, len) || idx_load(lp, &al, err, len) ||
      idx_to_dataset(&ai, &al, ip, lp, test, d, err, len))
    goto done;
  rc = 0;
done:
  free(ai.data);
  free(al.data);
  return rc;
}

static int idx_dir_load(const char *dir, mlpb_dataset *d, char *err, size_t len) {
  char ip[PATH_MAX], lp[PATH_MAX];
  int found = find_idx(dir, "train-images-idx3-ubyte", ip, err, len);
  if (found <= 0) {
    if (!found) snprintf(err, len, "%s/train-images-idx3-ubyte[.gz]: missing file", dir);
    return -1;
  }
  found = find_idx(dir, "train-labels-idx1-ubyte", lp, err, len);
  if (found <= 0) {
    if (!found) snprintf(err, len, "%s/train-labels-idx1-ubyte[.gz]: missing file", dir);
    return -1;
  }
  if (load_pair(ip, lp, 0, d, err, len)) return -1;
  int has_ti = find_idx(dir, "t10k-images-idx3-ubyte", ip, err, len);
  int has_tl = find_idx(dir, "t10k-labels-idx1-ubyte", lp, err, len);
  if (has_ti < 0 || has_tl < 0) return -1;
  if (has_ti != has_tl) {
    snprintf(err, len, "%s: missing file (the test set needs both images and labels)",
             has_ti ? lp : ip);
    return -1;
  }
  return has_ti ? load_pair(ip, lp, 1, d, err, len) : 0;
}

static int load_any(const char *spec, mlpb_dataset *d, char *err, size_t len) {
  char probe[PATH_MAX];
  int found;
  if (!spec || !*spec || strcmp(spec, "digits") == 0) {
    snprintf(d->name, sizeof d->name, "mnist-digits-10k");
    snprintf(d->source, sizeof d->source, "embedded (workloads/data/mnist-digits-10k)");
    return idx_from_memory(mlpb_digits_images, (size_t)mlpb_digits_images_size, mlpb_digits_labels,
                           (size_t)mlpb_digits_labels_size, d, err, len);
  }
  if (strncmp(spec, "synthetic:", 10) == 0) {
    char *end = NULL;
    long n = strtol(spec + 10, &end, 10);
    if (!spec[10] || *end || n < 1 || n > 10000000) {
      snprintf(err, len, "%s: synthetic size must be an integer 1..10000000", spec);
      return -1;
    }
    snprintf(d->name, sizeof d->name, "synthetic:%ld", n);
    snprintf(d->source, sizeof d->source, "generated");
    return synth_generate((int)n, d, err, len);
  }
  if (strcmp(spec, "fashion") == 0) {
    const char *dir = getenv("MLPBENCH_FASHION_DIR");
    dir = dir && *dir ? dir : MLPB_FASHION_DIR;
    if ((found = find_idx(dir, "train-images-idx3-ubyte", probe, err, len)) <= 0) {
      if (found < 0) return -1;
      snprintf(err, len,
               "%s/train-images-idx3-ubyte.gz: missing file (install Fashion-MNIST: apt-get "
               "install dataset-fashion-mnist)",
               dir);
      return -1;
    }
    snprintf(d->name, sizeof d->name, "fashion-mnist");
    snprintf(d->source, sizeof d->source, "%s", dir);
    return idx_dir_load(dir, d, err, len);
  }
  size_t n = strlen(spec);
  if (n >= PATH_MAX - 32) {
    snprintf(err, len, "%.200s...: path longer than %d bytes", spec, PATH_MAX - 33);
    return -1;
  }
  snprintf(d->name, sizeof d->name, "%.63s", spec);
  snprintf(d->source, sizeof d->source, "%s", spec);
  if (n > 4 && strcmp(spec + n - 4, ".csv") == 0) return csv_dataset_load(spec, d, err, len);
  if (!exists(spec)) {
    snprintf(err, len, "%s: no such file or folder", spec);
    return -1;
  }
  if ((found = find_idx(spec, "train-images-idx3-ubyte", probe, err, len)) != 0)
    return found < 0 ? -1 : idx_dir_load(spec, d, err, len);
  if (join(probe, spec, "train.csv", err, len)) return -1;
  if (exists(probe)) return csv_dataset_load(probe, d, err, len);
  snprintf(err, len, "%s: no train-images-idx3-ubyte[.gz] or train.csv in this folder", spec);
  return -1;
}

int dataset_load(const char *spec, mlpb_dataset *d, char *err, size_t len) {
  memset(d, 0, sizeof *d);
  int rc = load_any(spec, d, err, len);
  if (rc) {
    dataset_free(d);
    return rc == MLPB_ERR_NOMEM ? rc : -1;
  }
  dataset_hash(d);
  return 0;
}

void dataset_truncate(mlpb_dataset *d, int n) {
  if (n > 0 && n < d->n_train) {
    d->n_train = n;
    dataset_hash(d);
  }
}

void dataset_free(mlpb_dataset *d) {
  free(d->train_x);
  free(d->train_y);
  free(d->test_x);
  free(d->test_y);
  memset(d, 0, sizeof *d);
}
