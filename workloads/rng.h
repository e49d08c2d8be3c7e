/* rng.h: a portable seeded generator (xoshiro256** seeded by splitmix64), so that the same
 * seed gives the same weights, data and batches on every machine and backend. */
#ifndef MLPB_RNG_H
#define MLPB_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} rng_t;

/* Independent streams of one seed: weights, batch order and synthetic data never share. */
enum { RNG_STREAM_INIT = 1, RNG_STREAM_BATCHES = 2, RNG_STREAM_DATA = 3, RNG_STREAM_TEST = 4 };

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(rng_t *r);
float rng_uniform(rng_t *r);              /* [0, 1), 24 random bits */
uint32_t rng_below(rng_t *r, uint32_t n); /* [0, n), unbiased */
void rng_shuffle_i32(rng_t *r, int32_t *a, int n);

#endif
