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

/* The folder's real path and the name: one spelling for every way of naming a file. */
static int canonical(const char *path, char *out, size_t len) {
  char dir[PATH_MAX], real[PATH_MAX], base[PATH_MAX];
  folder_of(path, dir);
  if (!realpath(dir, real)) return -1;
  snprintf(base, sizeof base, "%s", path);
  int n = snprintf(out, len, "%s/%s", real, basename(base));
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int outfile_same(const char *a, const char *b) {
  struct stat sa, sb;
  char ca[2 * PATH_MAX], cb[2 * PATH_MAX];
  if (stat(a, &sa) == 0 && stat(b, &sb) == 0) /* links and hard links included */
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (canonical(a, ca, sizeof ca) || canonical(b, cb, sizeof cb)) return strcmp(a, b) == 0;
  return strcmp(ca, cb) == 0;
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

/* The stream's sink: the file descriptor and the first write error. stdio forgets why a
 * buffered write failed (ferror() only says that one did), so a full disk came out as a
 * guessed "Input/output error"; the sink keeps the errno the kernel gave. */
typedef struct {
  int fd;
  int err;
} out_sink;

static ssize_t sink_write(void *c, const char *buf, size_t n) {
  out_sink *s = c;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(s->fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (!s->err) s->err = w < 0 ? errno : ENOSPC; /* write() 0: no room */
      return done ? (ssize_t)done : -1;
    }
    done += (size_t)w;
  }
  return (ssize_t)n;
}

static int sink_close(void *c) {
  out_sink *s = c;
  int rc = close(s->fd);
  free(s);
  return rc;
}

int outfile_attach(outfile *o, int fd) {
  out_sink *s = calloc(1, sizeof *s);
  cookie_io_functions_t io = {.write = sink_write, .close = sink_close};
  if (!s) return -1;
  s->fd = fd;
  if (!(o->f = fopencookie(s, "w", io))) {
    free(s);
    return -1;
  }
  o->sink = s;
  return 0;
}

int outfile_errno(const outfile *o) {
  const out_sink *s = o->sink;
  return s && s->err ? s->err : errno ? errno : EIO;
}

/* umask(2) is read by setting it, then set straight back: no other thread of mlpbench creates
 * files, so none can see the moment it is 0 */
static mode_t outfile_umask(void) {
  mode_t m = umask(0);
  umask(m);
  return m;
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
  int fd = mkstemp(o->tmp);                         /* O_EXCL: never follows a planted link */
  if (fd >= 0) fchmod(fd, 0666 & ~outfile_umask()); /* as open(2) would have: umask 077 holds */
  if (fd < 0 || outfile_attach(o, fd)) {
    snprintf(err, len, "%s: cannot write: %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(o->tmp);
    }
    return -1;
  }
  return 0;
}

/* Flushes and fsyncs; the first failure's errno (the sink's for a buffered write). */
static int finish_stream(outfile *o) {
  out_sink *s = o->sink;
  errno = 0;
  int bad = ferror(o->f) != 0;
  bad |= fflush(o->f) != 0;
  int e = bad ? outfile_errno(o) : 0;
  if (!bad && fsync(s->fd) != 0) {
    bad = 1;
    e = errno;
  }
  if (fclose(o->f) != 0 && !bad) { /* close() may report a deferred write error (NFS) */
    bad = 1;
    e = errno ? errno : EIO;
  }
  o->f = NULL;
  o->sink = NULL; /* freed by sink_close */
  return e;
}

int outfile_commit(outfile *o, char *err, size_t len) {
  struct stat st;
  int e = finish_stream(o);
  if (e) {
    snprintf(err, len, "%s: cannot write: %s", o->path, strerror(e));
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
  o->sink = NULL;
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
