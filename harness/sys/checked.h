/* checked.h: products of counts the user gives (epochs, repeats, blocks, samples, bytes) in
 * size_t, with the overflow reported instead of wrapped, so no buffer is sized by a product
 * that wrapped around to something small. */
#ifndef MLPB_CHECKED_H
#define MLPB_CHECKED_H

#include <stddef.h>

/* *out = a * b (and * c); 0, or -1 when it does not fit a size_t. */
static inline int checked_mul(size_t a, size_t b, size_t *out) {
  return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int checked_mul3(size_t a, size_t b, size_t c, size_t *out) {
  size_t ab;
  return checked_mul(a, b, &ab) || checked_mul(ab, c, out) ? -1 : 0;
}

#endif
