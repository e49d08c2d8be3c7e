#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_join(char *out, size_t len, const char *dir, const char *name, char *err, size_t elen) {
  int n = snprintf(out, len, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= len) {
    snprintf(err, elen, "%.200s...: path longer than %zu bytes", dir, len - 1);
    return -1;
  }
  return 0;
}

static const char *kind_of(mode_t m) {
  return S_ISLNK(m)    ? "a symbolic link"
         : S_ISDIR(m)  ? "a folder"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISCHR(m)  ? "a character device"
         : S_ISBLK(m)  ? "a block device"
         : S_ISSOCK(m) ? "a socket"
                       : "not a regular file";
}

static int too_long(const char *path, char *err, size_t len) {
  if (!*path) {
    snprintf(err, len, "an empty path is not a file name");
    return 1;
  }
  if (strlen(path) >= PATH_MAX - 16) { /* room for the temp suffix */
    snprintf(err, len, "%.200s...: path longer than %d bytes", path, PATH_MAX - 17);
    return 1;
  }
  return 0;
}

static int folder_of(const char *path, char *dir) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  snprintf(dir, PATH_MAX, "%s", dirname(tmp));
  return 0;
}

/* Proves the folder takes a new file, with a name nobody can have planted. */
static int probe_dir(const char *dir, char *err, size_t len) {
  char probe[PATH_MAX];
  if (path_join(probe, sizeof probe, dir, ".mlpbench-probe-XXXXXX", err, len)) return -1;
  int fd = mkstemp(probe);
  if (fd < 0) {
    snprintf(err, len, "%s: cannot write there: %s", dir, strerror(errno));
    return -1;
  }
  close(fd);
  unlink(probe);
  return 0;
}

/* mkdir -p: each missing folder on the way is created. */
static int make_dirs(const char *dir) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", dir);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
      *s = '/';
    }
  return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int outfile_check_dir(const char *dir, char *err, size_t len) {
  struct stat st;
  if (too_long(dir, err, len)) return -1;
  if (make_dirs(dir) != 0) {
    snprintf(err, len, "%s: cannot create folder: %s", dir, strerror(errno));
    return -1;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, len, "%s: exists and is not a folder", dir);
    return -1;
  }
  return probe_dir(dir, err, len);
}

int outfile_check(const char *path, char *err, size_t len) {
  struct stat st;
  char dir[PATH_MAX];
  if (too_long(path, err, len)) return -1;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    snprintf(err, len, "%s: exists and is %s: refusing to replace it", path, kind_of(st.st_mode));
    return -1;
  }
  folder_of(path, dir);
  return outfile_check_dir(dir, err, len);
}

int outfile_open(outfile *o, const char *path, char *err, size_t len) {
  char dir[PATH_MAX], base[PATH_MAX], name[PATH_MAX];
  memset(o, 0, sizeof *o);
  if (outfile_check(path, err, len)) return -1;
  snprintf(o->path, sizeof o->path, "%s", path);
  folder_of(path, dir);
  snprintf(base, sizeof base, "%s", path);
  snprintf(name, sizeof name, ".%.200s.XXXXXX", basename(base));
  if (path_join(o->tmp, sizeof o->tmp, dir, name, err, len)) return -1;
  int fd = mkstemp(o->tmp); /* O_EXCL: never follows a planted link */
  if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
    snprintf(err, len, "%s: cannot write: %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(o->tmp);
    }
    return -1;
  }
  fchmod(fd, 0644);
  return 0;
}

int outfile_commit(outfile *o, char *err, size_t len) {
  struct stat st;
  errno = 0;
  int bad = ferror(o->f) != 0;
  bad |= fflush(o->f) != 0;
  bad |= fsync(fileno(o->f)) != 0;
  int e = errno;
  bad |= fclose(o->f) != 0;
  o->f = NULL;
  if (bad) {
    snprintf(err, len, "%s: cannot write: %s", o->path, strerror(e ? e : errno ? errno : EIO));
    goto fail;
  }
  /* something planted at the destination during the run is refused, not replaced */
  if (lstat(o->path, &st) == 0 && !S_ISREG(st.st_mode)) {
    snprintf(err, len, "%s: exists and is %s: refusing to replace it", o->path,
             kind_of(st.st_mode));
    goto fail;
  }
  if (rename(o->tmp, o->path) != 0) {
    snprintf(err, len, "%s: cannot write: %s", o->path, strerror(errno));
    goto fail;
  }
  return 0;
fail:
  unlink(o->tmp);
  return -1;
}

void outfile_abort(outfile *o) {
  if (o->f) fclose(o->f);
  o->f = NULL;
  if (o->tmp[0]) unlink(o->tmp);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return (flag == FTW_DP ? rmdir(p) : unlink(p)) == 0 || errno == ENOENT ? 0 : -1;
}

int rmtree(const char *dir) {
  return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
