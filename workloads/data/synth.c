/* synth.c: learnable MNIST-shaped data of any size with no files: ten fixed stroke
 * prototypes, each sample shifted, rescaled and noised. The set depends only on N. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rng.h"
#include "dataset.h"

#define SYN_SIDE 28
#define SYN_SEED 0x5EED5EEDULL

static float seg_dist(float px, float py, float ax, float ay, float bx, float by) {
  float vx = bx - ax, vy = by - ay, wx = px - ax, wy = py - ay;
  float t = (vx * wx + vy * wy) / (vx * vx + vy * vy + 1e-6f);
  t = t < 0 ? 0 : (t > 1 ? 1 : t);
  float dx = wx - t * vx, dy = wy - t * vy;
  return sqrtf(dx * dx + dy * dy);
}

// proto (10, 28*28) in [0, 1]: three thick strokes per class
static void make_prototypes(float *proto, rng_t *r) {
  for (int c = 0; c < MLPB_N_CLASSES; c++) {
    float *p = proto + c * SYN_SIDE * SYN_SIDE;
    for (int s = 0; s < 3; s++) {
      float ax = 6 + 16 * rng_uniform(r), ay = 6 + 16 * rng_uniform(r);
      float bx = 6 + 16 * rng_uniform(r), by = 6 + 16 * rng_uniform(r);
      for (int y = 0; y < SYN_SIDE; y++)
        for (int x = 0; x < SYN_SIDE; x++) {
          float v = 1.0f - seg_dist((float)x, (float)y, ax, ay, bx, by) / 2.0f;
          float *q = p + y * SYN_SIDE + x;
          if (v > *q) *q = v;
        }
    }
  }
}

int synth_generate(int n, mlpb_dataset *d, char *err, size_t len) {
  const int px = SYN_SIDE * SYN_SIDE;
  float proto[MLPB_N_CLASSES * SYN_SIDE * SYN_SIDE];
  rng_t r;
  if (n < 1 || n > 10000000) {
    snprintf(err, len, "synthetic:%d: size must be 1..10000000", n);
    return -1;
  }
  memset(proto, 0, sizeof proto);
  rng_seed(&r, SYN_SEED, RNG_STREAM_DATA);
  make_prototypes(proto, &r);
  d->train_x = malloc((size_t)n * px);
  d->train_y = malloc((size_t)n);
  if (!d->train_x || !d->train_y) {
    snprintf(err, len, "synthetic:%d: out of memory", n);
    return MLPB_ERR_NOMEM;
  }
  for (int i = 0; i < n; i++) {
    int c = (int)rng_below(&r, MLPB_N_CLASSES);
    int dx = (int)rng_below(&r, 5) - 2, dy = (int)rng_below(&r, 5) - 2;
    float scale = 0.6f + 0.4f * rng_uniform(&r);
    const float *p = proto + c * px;
    uint8_t *out = d->train_x + (size_t)i * px;
    for (int y = 0; y < SYN_SIDE; y++)
      for (int x = 0; x < SYN_SIDE; x++) {
        int sx = x - dx, sy = y - dy;
        float v =
            (sx >= 0 && sx < SYN_SIDE && sy >= 0 && sy < SYN_SIDE) ? p[sy * SYN_SIDE + sx] : 0;
        float noise = (rng_uniform(&r) + rng_uniform(&r) - 1.0f) * 0.35f;
        v = v * scale + (v > 0 || noise > 0.25f ? noise : 0);
        out[y * SYN_SIDE + x] = (uint8_t)(v <= 0 ? 0 : v >= 1 ? 255 : lrintf(v * 255.0f));
      }
    d->train_y[i] = (uint8_t)c;
  }
  d->n_train = n;
  d->rows = d->cols = SYN_SIDE;
  return 0;
}
