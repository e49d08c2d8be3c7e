/* test_div_const: div_const (Adam's division by sqrt(1 - beta2^t), and a byte pixel's back
 * to its float) gives the bits of the division it replaces. Every mantissa is checked at three
 * exponents for the divisors of the first 300 steps at four beta2 values and for random divisors;
 * then Adam's own sum (quotient + eps) over tiny, special and huge a, with subnormals flushed and
 * not. A wrong step in the sequence (a plain multiply by 1/c, say) fails the mantissa sweep at
 * once. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#include "../impls/common/div_const.h"
#include "t.h"

static float from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* the a in [2^k, 2^(k+1)) whose quotient differs from a / c; none, or the first */
static long mantissa_misses(float c, int k, float *first) {
  const float rc = 1.0f / c;
  long miss = 0;
  for (uint32_t m = 0; m < (1u << 23); m++) {
    float a = from_bits((uint32_t)(127 + k) << 23 | m);
    if (div_const(a, c, rc) != a / c && miss++ == 0) *first = a;
  }
  return miss;
}

static void check_divisor(float c) {
  static const int ks[] = {0, -90, 60};
  for (int i = 0; i < 3; i++) {
    float first = 0;
    long miss = mantissa_misses(c, ks[i], &first);
    T_CHECK(miss == 0, "c=%.9g: %ld of 2^23 a in [2^%d, 2^%d) differ, first a=%.9g", c, miss, ks[i],
            ks[i] + 1, first);
  }
}

static void every_mantissa_adam_divisors(void) {
  static const double beta2s[] = {0.9, 0.99, 0.999, 0.9999};
  for (int b = 0; b < 4; b++)
    for (int t = 1; t <= 300; t += (t < 20 ? 1 : 7))
      check_divisor((float)sqrt(1.0 - pow(beta2s[b], (double)t)));
}

/* the CPU step keeps images normalized as byte / 255.0f as their bytes and converts back */
static void every_pixel_value(void) {
  const float rc = 1.0f / 255.0f;
  for (int u = 0; u < 256; u++) {
    float got = div_const((float)u, 255.0f, rc), want = (float)u / 255.0f;
    T_CHECK(!memcmp(&got, &want, sizeof got), "%d / 255: %.9g, division %.9g", u, got, want);
  }
}

static void every_mantissa_random_divisors(void) {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 40; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    float c =
        from_bits((uint32_t)(127 - 20 + (int)(s >> 40) % 21) << 23 | (uint32_t)(s & 0x7fffff));
    check_divisor(c);
  }
}

/* Adam's sum over the a the mantissa sweep leaves out: zero, subnormal, tiny, huge, inf, NaN */
static void sum_with_eps(int flush) {
#ifdef HAVE_MXCSR
  unsigned int csr = _mm_getcsr();
  _mm_setcsr(flush ? (csr | 0x8040) : (csr & ~0x8040u));
#else
  if (flush) return;
#endif
  static const float eps_list[] = {1e-8f, 1e-12f, 0x1p-50f};
  static const float c_list[] = {0.0316227749f, 0.3f, 0.999f, 0x1p-20f};
  long bad = 0;
  for (int e = 0; e < 3; e++)
    for (int ci = 0; ci < 4; ci++) {
      float c = c_list[ci], eps = eps_list[e], rc = 1.0f / c;
      T_CHECK(div_const_ok(c, eps), "c=%g eps=%g should take the fast path", c, eps);
      /* every exponent from the subnormals to 2^64, 4096 mantissas each */
      for (uint32_t ex = 0; ex <= 127 + 64; ex++)
        for (uint32_t m = 0; m < (1u << 23); m += 2047) {
          float a = from_bits(ex << 23 | m);
          float got = div_const(a, c, rc) + eps, want = a / c + eps;
          if (memcmp(&got, &want, sizeof got) && bad++ < 3)
            T_CHECK(0, "flush=%d c=%.9g eps=%g a=%.9g: %.9g, division %.9g", flush, c, eps, a, got,
                    want);
        }
      float inf = from_bits(0x7f800000u), nan = from_bits(0x7fc00000u);
      T_CHECK(div_const(inf, c, rc) == inf, "inf / c");
      T_CHECK(isnan(div_const(nan, c, rc)), "NaN / c");
      T_CHECK(div_const(0.0f, c, rc) == 0.0f, "0 / c");
    }
  T_CHECK(!div_const_ok(0x1p-21f, 1e-8f), "a tiny divisor takes the division");
  T_CHECK(!div_const_ok(0.5f, 0.0f), "eps 0 takes the division");
#ifdef HAVE_MXCSR
  _mm_setcsr(csr);
#endif
}

static void sum_with_eps_flushed(void) {
  sum_with_eps(1);
}
static void sum_with_eps_gradual(void) {
  sum_with_eps(0);
}

int main(void) {
  T_RUN(every_mantissa_adam_divisors);
  T_RUN(every_mantissa_random_divisors);
  T_RUN(every_pixel_value);
  T_RUN(sum_with_eps_flushed);
  T_RUN(sum_with_eps_gradual);
  T_EXIT();
}
