/* tmpdir.h: private temporary folders (mkdtemp, mode 0700) under $TMPDIR when it names an
 * absolute, existing folder with room for the name, else under /tmp. Every folder made here
 * is removed by tmpdir_remove, or at exit if a path out forgot it, so an interrupted run
 * leaves nothing behind. */
#ifndef MLPB_TMPDIR_H
#define MLPB_TMPDIR_H

#include <stddef.h>

/* out gets BASE/mlpbench-PREFIX-XXXXXX, made; -1 with why in err. */
int tmpdir_make(char *out, size_t len, const char *prefix, char *err, size_t elen);
/* Removes the folder tree and forgets it; 0, or -1 when something stayed. */
int tmpdir_remove(const char *dir);
/* Removes every folder still live (what exit does): for a process about to _exit. */
void tmpdir_remove_all(void);

#endif
