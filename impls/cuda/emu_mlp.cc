/* The emulated build of cuda_mlp.cu: the same source, compiled by g++ over the HIP CPU runtime
 * (compat.h maps the names). Nothing is written here. */
#include "cuda_mlp.cu"
