/* mlp_plugin.h: a backend built as a shared library, outside mlpbench.
 *
 * A plugin exports one function, mlpbench_backend_entry. mlpbench loads the library only from
 * a path the user names (--backend-lib PATH, or MLPBENCH_BACKEND_LIBS=PATH:PATH), calls the
 * entry with the ABI it speaks and takes the table returned, which must stay valid while the
 * library is loaded (a static const table). The table starts with its own ABI version and
 * size, so a plugin built against another version of this header is refused by name, not run:
 *
 *   static int mine_available(const mlp_backend *self, char *why, size_t len) { ... }
 *   static const mlp_backend mine = {MLP_BACKEND_PLUGIN_HEADER, .name = "mine",
 *                                    .available = mine_available, ...};
 *   const mlp_backend *mlpbench_backend_entry(int harness_abi) {
 *     return harness_abi == MLP_BACKEND_ABI ? &mine : NULL;
 *   }
 *
 * Required slots (a NULL one is refused): name, summary, available, create, destroy, error,
 * set_params, get_params, get_grads, zero_grads, forward_backward, step, forward;
 * set_dataset and train_steps come together or not at all. Every string a plugin hands back
 * (summary, describe, error, path, why) is shown through mlpbench's terminal filter, so it
 * cannot move the cursor or forge lines. A plugin may not be the reference row (props.reference
 * is ignored) nor ask to re-run mlpbench (tuned_env and wait_policy are ignored). Every slot
 * without a context gets the plugin's own table as `self` (ABI 3). Around each call mlpbench
 * keeps its FP environment (restored, and the change reported), its SIGINT/SIGTERM handlers,
 * and its exit status (exit() inside a slot ends the run with status 3, naming the slot).
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags mlpbench) mine.c -o libmine.so
 *        $(pkg-config --libs mlpbench)   (the last only if it uses common/cpu_mlp.h) */
#ifndef MLPB_MLP_PLUGIN_H
#define MLPB_MLP_PLUGIN_H

#include "mlp_backend.h"

/* The first two fields of a plugin's table. */
#define MLP_BACKEND_PLUGIN_HEADER                                                                  \
  .abi_version = MLP_BACKEND_ABI, .table_size = (uint32_t)sizeof(mlp_backend)

#define MLPBENCH_BACKEND_ENTRY "mlpbench_backend_entry"

#if defined(__GNUC__)
#define MLPBENCH_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MLPBENCH_PLUGIN_EXPORT
#endif

/* The plugin's entry point: its table for this ABI, or NULL when it does not speak it. */
MLPBENCH_PLUGIN_EXPORT const mlp_backend *mlpbench_backend_entry(int harness_abi);

#endif
