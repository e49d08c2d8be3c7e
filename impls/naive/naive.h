/* naive.h: the reference backend's products, for code that builds a CPU step on them (a
 * test of the step's own loops, say) without the backend table around them. */
#ifndef MLPB_NAIVE_H
#define MLPB_NAIVE_H

#include "../common/cpu_mlp.h"

/* plain loops; parallel is NULL: the reference runs every loop on one thread */
extern const cpu_matmul_ops naive_matmul_ops;

#endif
