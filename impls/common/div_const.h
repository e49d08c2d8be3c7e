/* div_const.h: a / c, correctly rounded, for a divisor c fixed over a loop, without a divide.
 *
 * Why: Adam divides every parameter's sqrt(v) by the same sqrt(1 - beta2^t). A vector
 * division or square root occupies Zen 4's one divider for several cycles, and Adam's two
 * divisions and square root per parameter, not its memory traffic, set its speed. Three
 * multiply-adds give the same bits as the division:
 *
 *   q0 = a * rc              rc = 1/c rounded once (within half an ulp of 1/c)
 *   e  = fma(-q0, c, a)      the remainder, exact (q0 is within an ulp of a/c)
 *   q  = fma(e, rc, q0)      correctly rounded a/c (Markstein's theorem)
 *
 * The theorem needs the remainder not to underflow: it holds for |a| above about 2^-100 and
 * below overflow. Below that the result may be an ulp off, which is why Adam takes this path
 * only where its eps (added next) swamps any such quotient; see div_const_ok. Infinite a gives
 * a NaN remainder, and then q0 (infinite, as a / c is) is the answer; NaN stays NaN.
 * tests/test_div_const.c checks every mantissa against the division for hundreds of divisors. */
#ifndef MLPB_DIV_CONST_H
#define MLPB_DIV_CONST_H

#include <math.h>

static inline float div_const(float a, float c, float rc) {
  float q0 = a * rc;
  float e = fmaf(-q0, c, a);
  return e == e ? fmaf(e, rc, q0) : q0;
}

/* Whether div_const(a, c, 1/c) + eps equals a / c + eps for every float a >= 0 up to 2^64
 * (every sqrt of a float): c not tiny, so 1/c is finite, and eps large enough that the
 * quotient of an a below the theorem's range (under 2^-100 / c <= 2^-80) is under half of
 * eps's ulp (2^-74 and up), lost in the sum whether or not it is an ulp off. */
static inline int div_const_ok(float c, float eps) {
  return c >= 0x1p-20f && c <= 0x1p20f && eps >= 0x1p-50f;
}

#endif
