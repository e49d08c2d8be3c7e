/* plugins.h: backends loaded from shared libraries the user names (impls/mlp_plugin.h).
 *
 * A plugin's table is checked before anything in it runs (its ABI version and size, then
 * the required slots, then its name against every backend and peer), and never handed to the
 * harness as it is: the registry gets a copy whose slots wrap the plugin's, so every string
 * the plugin returns (summary, describe, error, path, why) passes term_text() once, here, and
 * no other module has to remember that this backend's words are untrusted. */
#ifndef MLPB_PLUGINS_H
#define MLPB_PLUGINS_H

#include <stddef.h>

#include "../../impls/mlp_backend.h"

#define PLUGINS_ENV "MLPBENCH_BACKEND_LIBS"

/* Loads the plugin at path (a file the user named: no search path, never the current folder
 * implicitly) and adds its backend to the registry. Loading the same file twice is a no-op.
 * 0, or -1 with one line in err (the path is already made safe to print there). */
int plugins_load(const char *path, char *err, size_t len);

/* From now on plugins_load() checks a path (it resolves to a regular file; counted, repeats
 * dropped) and keeps it for plugins_path(), but loads nothing: for `conform`, whose process
 * never runs a plugin's code (its children load them). */
void plugins_defer(void);

/* Each path of the colon-separated list in $MLPBENCH_BACKEND_LIBS (empty items skipped). */
int plugins_load_env(char *err, size_t len);

/* The loaded plugins' resolved paths, for `bench --processes`' children. */
int plugins_count(void);
const char *plugins_path(int i);

/* Which file a backend came from: 0 with its resolved path and the SHA-256 of its bytes (hex,
 * taken as it was loaded), or -1 for a built-in backend. */
int plugins_source(const mlp_backend *be, const char **path, const char **sha256);
/* What the backend's calls changed in the FP environment, first time ("forward_backward: FTZ
 * on"; mlpbench restored it after each call), or NULL: nothing, or not a plugin. */
const char *plugins_fenv_changed(const mlp_backend *be);

#endif
