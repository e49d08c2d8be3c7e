/* outfile.h: every file mlpbench writes goes through here. A destination is checked before
 * a run (a regular file or nothing, in a folder we can write), then written to a temp file
 * made with mkstemp in the same folder, fsynced and renamed over it. A device, FIFO, symlink
 * or folder at the destination is refused, never replaced; a failed write leaves the old
 * file as it was. */
#ifndef MLPB_OUTFILE_H
#define MLPB_OUTFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *f;
  void *sink; /* the stream's descriptor and first write error (outfile.c) */
  char tmp[PATH_MAX];
  char path[PATH_MAX];
} outfile;

/* "DIR/NAME" into out; -1 with a message when it does not fit PATH_MAX. */
int path_join(char *out, size_t len, const char *dir, const char *name, char *err, size_t elen);

/* The destination may be written: not empty, fits PATH_MAX, nothing there or a regular file,
 * its folder exists (created when missing) and takes a new file. */
int outfile_check(const char *path, char *err, size_t len);
/* A folder for outputs: created when missing, a folder (not a file), writable. */
int outfile_check_dir(const char *dir, char *err, size_t len);

/* 1 when a and b name one file: the same device and inode when both exist, else the same
 * real folder and name (a/./x and a/b/../x are one file). Call it after outfile_check, which
 * creates the folders. */
int outfile_same(const char *a, const char *b);

int outfile_open(outfile *o, const char *path, char *err, size_t len);
/* o->f becomes a stream over fd (owned from now on) that keeps the first write error's
 * errno; outfile_open uses it, a test gives it /dev/full. */
int outfile_attach(outfile *o, int fd);
/* Why a write through o->f failed: the first write error's errno (ENOSPC on a full disk),
 * else errno, else EIO. */
int outfile_errno(const outfile *o);
/* Flushes, fsyncs and renames into place; on any failure removes the temp file. */
int outfile_commit(outfile *o, char *err, size_t len);
void outfile_abort(outfile *o);

/* Removes a folder tree (nftw; symlinks are removed, never followed). */
int rmtree(const char *dir);

#endif
