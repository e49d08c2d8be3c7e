#include "peer_names.h"

#include <stddef.h>

const char *const peers_known[PEERS_KNOWN_N + 1] = {
    "numpy",    "torch",    "torch-fused", "torch-compile", "torch-cuda", "torch-cuda-graph", "jax",
    "jax-scan", "jax-cuda", NULL};
