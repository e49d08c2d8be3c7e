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

int outfile_open(outfile *o, const char *path, char *err, size_t len);
/* Flushes, fsyncs and renames into place; on any failure removes the temp file. */
int outfile_commit(outfile *o, char *err, size_t len);
void outfile_abort(outfile *o);

/* Removes a folder tree (nftw; symlinks are removed, never followed). */
int rmtree(const char *dir);

#endif
