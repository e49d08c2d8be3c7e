/* png_csv.c: the tutorial's layout, a CSV of filename,label beside a folder of PNG images,
 * read and written with libpng. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <png.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/file_read.h"
#include "../io/outfile.h"
#include "../io/png_write.h"
#include "dataset.h"
#include "png_fuzz.h"

#define PNG_MAX_SIDE 4096
/* a 4096x4096 16-bit RGBA image stored uncompressed is 128 MiB */
#define PNG_MAX_FILE ((size_t)160 << 20)

typedef struct {
  const uint8_t *p;
  size_t n, at;
} png_mem;

static int png_fuzzing;

void png_fuzzing_mode(int on) {
  png_fuzzing = on;
}

static void read_mem(png_structp png, png_bytep out, size_t n) {
  png_mem *m = png_get_io_ptr(png);
  if (n > m->n - m->at) png_error(png, "file ends early (truncated)");
  memcpy(out, m->p + m->at, n);
  m->at += n;
}

int png_decode_gray8(const uint8_t *buf, size_t n, const char *name, uint8_t **pix, int *w, int *h,
                     char *err, size_t len) {
  png_errbox box = {{0}};
  png_structp png = NULL;
  png_infop info = NULL;
  uint8_t *volatile data = NULL;
  png_bytep *volatile rows = NULL;
  png_mem mem = {buf, n, 0};
  if (n < 8 || png_sig_cmp(buf, 0, 8)) {
    snprintf(err, len, "%s: not a PNG file", name);
    return -1;
  }
  png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &box, png_errbox_on_error,
                               png_errbox_on_warning);
  info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    snprintf(err, len, "%s: out of memory starting libpng", name);
    goto fail;
  }
  if (setjmp(png_jmpbuf(png))) {
    snprintf(err, len, "%s: corrupt PNG (%s)", name, box.msg);
    goto fail;
  }
  /* a size over the limit is named as such, not as libpng's "Invalid IHDR data" */
  if (n >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
    uint32_t iw =
        (uint32_t)buf[16] << 24 | (uint32_t)buf[17] << 16 | (uint32_t)buf[18] << 8 | buf[19];
    uint32_t ih =
        (uint32_t)buf[20] << 24 | (uint32_t)buf[21] << 16 | (uint32_t)buf[22] << 8 | buf[23];
    if (iw > PNG_MAX_SIDE || ih > PNG_MAX_SIDE) {
      snprintf(err, len, "%s: %ux%u image is larger than the %dx%d limit", name, iw, ih,
               PNG_MAX_SIDE, PNG_MAX_SIDE);
      goto fail;
    }
  }
  png_set_read_fn(png, &mem, read_mem);
  if (png_fuzzing) png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
  png_read_info(png, info);
  png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  int trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (trns) png_set_tRNS_to_alpha(png); /* transparency is dropped like an alpha channel */
  if (depth == 16) png_set_strip_16(png);
  if ((color & PNG_COLOR_MASK_ALPHA) || trns) png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_PALETTE || (color & PNG_COLOR_MASK_COLOR))
    png_set_rgb_to_gray_fixed(png, 1, -1, -1);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != width || png_get_channels(png, info) != 1) {
    snprintf(err, len, "%s: could not convert to 8-bit gray (%d channels)", name,
             png_get_channels(png, info));
    goto fail;
  }
  data = malloc((size_t)width * height);
  rows = malloc(height * sizeof(png_bytep));
  if (!data || !rows) {
    snprintf(err, len, "%s: out of memory for a %ux%u image", name, width, height);
    goto fail;
  }
  for (png_uint_32 y = 0; y < height; y++)
    rows[y] = data + (size_t)y * width;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  *pix = data;
  *w = (int)width;
  *h = (int)height;
  return 0;
fail:
  if (png) png_destroy_read_struct(&png, info ? &info : NULL, NULL);
  free(data);
  free(rows);
  return -1;
}

int png_read_gray8(const char *path, uint8_t **pix, int *w, int *h, char *err, size_t len) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t *buf = NULL;
  size_t n = 0;
  char why[PATH_MAX + 200];
  if (file_read_max(path, PNG_MAX_FILE, sig, 8, "a PNG file", &buf, &n, why, sizeof why)) {
    const char *cause = strstr(why, "cannot open: ");
    if (cause)
      snprintf(err, len, "%s: cannot open image: %s", path, cause + 13);
    else
      snprintf(err, len, "%s", why);
    return -1;
  }
  int rc = png_decode_gray8(buf, n, path, pix, w, h, err, len);
  free(buf);
  return rc;
}

int png_write_gray8(const char *path, const uint8_t *pix, int w, int h, char *err, size_t len) {
  return png_write_8bit(path, pix, w, h, 1, err, len);
}

/* ---- CSV ---- */

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The tutorial keeps images in Train/Images/train or Images/train; export writes images/. */
static int image_dir_for(const char *csv_path, char *out, char *err, size_t len) {
  char dir[PATH_MAX];
  if (strlen(csv_path) >= PATH_MAX - 32) {
    snprintf(err, len, "%.200s...: path longer than %d bytes", csv_path, PATH_MAX - 33);
    return -1;
  }
  snprintf(dir, sizeof dir, "%s", csv_path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  static const char *subs[] = {"images", "Images/train", "Train/Images/train", NULL};
  for (int i = 0; subs[i]; i++) {
    if (path_join(out, PATH_MAX, dir, subs[i], err, len)) return -1;
    if (is_dir(out)) return 0;
  }
  snprintf(out, PATH_MAX, "%s", dir);
  return 0;
}

/* A listed name stays inside the image folder: relative, no ".." component. */
static int name_escapes(const char *name) {
  if (name[0] == '/') return 1;
  for (const char *p = name; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.') return 1;
    p += n;
    if (*p == '/') p++;
  }
  return 0;
}

/* The next line of buf (ends at \n, \r\n or a lone \r), NUL-terminated in place. */
static char *next_line(char **cur, char *end) {
  char *s = *cur;
  if (s >= end) return NULL;
  char *e = s;
  while (e < end && *e != '\n' && *e != '\r')
    e++;
  char *next = e < end ? e + 1 : e;
  if (e < end && *e == '\r' && next < end && *next == '\n') next++;
  *e = '\0';
  *cur = next;
  return s;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

/* One data line: "name,label". Returns 0 and fills, or -1 with why. */
int csv_parse_line(char *line, char **name, int *label, const char **why) {
  char *comma = strchr(line, ',');
  if (!comma) {
    *why = "expected 'filename,label'";
    return -1;
  }
  *comma = '\0';
  *name = trim(line);
  char *lab = trim(comma + 1), *end = NULL;
  if (!**name) {
    *why = "empty filename";
    return -1;
  }
  if (strchr(lab, ',')) {
    *why = "more than two fields";
    return -1;
  }
  errno = 0;
  long v = strtol(lab, &end, 10);
  if (!*lab || *end || errno) {
    *why = "label is not an integer";
    return -1;
  }
  if (v < 0 || v >= MLPB_N_CLASSES) {
    *why = "label outside 0..9";
    return -1;
  }
  *label = (int)v;
  return 0;
}

static int grow(mlpb_dataset *d, int *cap, size_t img_bytes) {
  int ncap = *cap ? *cap * 2 : 1024;
  uint8_t *x = realloc(d->train_x, (size_t)ncap * img_bytes);
  if (!x) return -1;
  d->train_x = x;
  uint8_t *y = realloc(d->train_y, (size_t)ncap);
  if (!y) return -1;
  d->train_y = y;
  *cap = ncap;
  return 0;
}

#define CSV_MAX_FILE ((size_t)256 << 20)

int csv_dataset_load(const char *csv_path, mlpb_dataset *d, char *err, size_t len) {
  char imgdir[PATH_MAX], path[PATH_MAX];
  uint8_t *text = NULL;
  size_t n = 0;
  int cap = 0, lineno = 0, seen_data = 0;
  if (image_dir_for(csv_path, imgdir, err, len) ||
      file_read_max(csv_path, CSV_MAX_FILE, NULL, 0, "a CSV file", &text, &n, err, len))
    return -1;
  char *cur = (char *)text, *end = cur + n, *raw;
  if (n >= 3 && memcmp(cur, "\xef\xbb\xbf", 3) == 0) cur += 3; /* UTF-8 byte order mark */
  if (memchr(cur, '\0', (size_t)(end - cur))) {
    snprintf(err, len, "%s: holds NUL bytes: not a text CSV file", csv_path);
    goto fail;
  }
  while ((raw = next_line(&cur, end))) {
    lineno++;
    char *s = trim(raw), *name;
    const char *why = NULL;
    int label, w, h;
    if (!*s) continue;
    /* a header is the first non-blank line, when it names the column */
    if (!seen_data++ && strncasecmp(s, "filename", 8) == 0) continue;
    if (csv_parse_line(s, &name, &label, &why)) {
      snprintf(err, len, "%s:%d: malformed line: %s", csv_path, lineno, why);
      goto fail;
    }
    if (name_escapes(name)) {
      snprintf(err, len, "%s:%d: image name '%.200s' leaves the image folder", csv_path, lineno,
               name);
      goto fail;
    }
    uint8_t *pix = NULL;
    if (path_join(path, sizeof path, imgdir, name, err, len) ||
        png_read_gray8(path, &pix, &w, &h, err, len))
      goto fail;
    if (d->n_train == 0) {
      d->rows = h;
      d->cols = w;
    } else if (w != d->cols || h != d->rows) {
      snprintf(err, len, "%s: %dx%d image, but the first image is %dx%d (size mismatch)", path, w,
               h, d->cols, d->rows);
      free(pix);
      goto fail;
    }
    size_t img_bytes = (size_t)w * h;
    if (d->n_train == cap && grow(d, &cap, img_bytes)) {
      snprintf(err, len, "%s: out of memory at line %d", csv_path, lineno);
      free(pix);
      goto fail;
    }
    memcpy(d->train_x + (size_t)d->n_train * img_bytes, pix, img_bytes);
    d->train_y[d->n_train++] = (uint8_t)label;
    free(pix);
  }
  if (d->n_train == 0) {
    snprintf(err, len, "%s: no images listed", csv_path);
    goto fail;
  }
  free(text);
  return 0;
fail:
  free(text);
  return -1;
}

/* An export folder may be replaced whole only when it holds nothing but an earlier export. */
static int export_dest_ok(const char *dir, int *exists, char *err, size_t len) {
  struct stat st;
  *exists = 0;
  if (lstat(dir, &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, len, "%s: exists and is not a folder: refusing to replace it", dir);
    return -1;
  }
  DIR *dp = opendir(dir);
  struct dirent *e;
  if (!dp) {
    snprintf(err, len, "%s: cannot read folder: %s", dir, strerror(errno));
    return -1;
  }
  while ((e = readdir(dp)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "train.csv") &&
        strcmp(e->d_name, "images")) {
      snprintf(err, len, "%s: holds '%.100s', not only an earlier export: refusing to replace it",
               dir, e->d_name);
      closedir(dp);
      return -1;
    }
  closedir(dp);
  *exists = 1;
  return 0;
}

static int export_into(const mlpb_dataset *d, const char *tmp, const volatile sig_atomic_t *stop,
                       char *err, size_t len) {
  char path[PATH_MAX];
  if (path_join(path, sizeof path, tmp, "images", err, len)) return -1;
  if (mkdir(path, 0777)) {
    snprintf(err, len, "%s: cannot create folder: %s", path, strerror(errno));
    return -1;
  }
  if (path_join(path, sizeof path, tmp, "train.csv", err, len)) return -1;
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, len, "%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  fprintf(f, "filename,label\n");
  size_t img_bytes = (size_t)d->rows * d->cols;
  for (int i = 0; i < d->n_train; i++) {
    if (stop && *stop) {
      snprintf(err, len, "interrupted by signal %d", (int)*stop);
      fclose(f);
      return -2;
    }
    char name[32];
    snprintf(name, sizeof name, "%05d.png", i);
    fprintf(f, "%s,%d\n", name, d->train_y[i]);
    char rel[64];
    snprintf(rel, sizeof rel, "images/%s", name);
    if (path_join(path, sizeof path, tmp, rel, err, len)) {
      fclose(f);
      return -1;
    }
    FILE *img = fopen(path, "wb");
    int bad = !img || png_write_8bit_to(img, path, d->train_x + i * img_bytes, d->cols, d->rows, 1,
                                        err, len);
    if (img && fclose(img) != 0 && !bad) {
      snprintf(err, len, "%s: cannot write: %s", path, strerror(errno));
      bad = 1;
    }
    if (bad) {
      if (!img) snprintf(err, len, "%s: cannot write: %s", path, strerror(errno));
      fclose(f);
      return -1;
    }
  }
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0 || syncfs(fileno(f)) != 0;
  if ((fclose(f) != 0) | bad) {
    snprintf(err, len, "%s/train.csv: cannot write: %s", tmp, strerror(errno));
    return -1;
  }
  return 0;
}

int dataset_export_png(const mlpb_dataset *d, const char *dir, const volatile sig_atomic_t *stop,
                       char *err, size_t len) {
  char parent[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX], base[PATH_MAX];
  int exists;
  if (!*dir || strlen(dir) >= PATH_MAX - 64) {
    snprintf(err, len, "%.200s: not a usable folder name (empty or too long)", dir);
    return -1;
  }
  if (export_dest_ok(dir, &exists, err, len)) return -1;
  snprintf(tmp, sizeof tmp, "%s", dir);
  snprintf(parent, sizeof parent, "%s", dirname(tmp));
  snprintf(tmp, sizeof tmp, "%s", dir);
  snprintf(base, sizeof base, "%s", basename(tmp));
  char name[128];
  snprintf(name, sizeof name, ".%.100s.export-XXXXXX", base);
  if (path_join(tmp, sizeof tmp, parent, name, err, len)) return -1;
  snprintf(name, sizeof name, ".%.100s.old-XXXXXX", base);
  if (path_join(old, sizeof old, parent, name, err, len)) return -1;
  /* everything is written into a private folder beside the destination, then renamed */
  if (outfile_check_dir(parent, err, len)) return -1;
  if (!mkdtemp(tmp)) {
    snprintf(err, len, "%s: cannot create folder: %s", dir, strerror(errno));
    return -1;
  }
  int rc = export_into(d, tmp, stop, err, len);
  if (rc) goto fail;
  if (exists && (!mkdtemp(old) || rename(dir, old) != 0)) {
    snprintf(err, len, "%s: cannot move the earlier export aside: %s", dir, strerror(errno));
    if (old[strlen(old) - 1] != 'X') rmdir(old);
    rc = -1;
    goto fail;
  }
  if (rename(tmp, dir) != 0) {
    snprintf(err, len, "%s: cannot write: %s", dir, strerror(errno));
    if (exists) rename(old, dir);
    rc = -1;
    goto fail;
  }
  if (exists && rmtree(old) != 0) fprintf(stderr, "mlpbench: could not remove %s\n", old);
  return 0;
fail:
  rmtree(tmp);
  return rc;
}
