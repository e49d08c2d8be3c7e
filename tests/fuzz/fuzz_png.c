/* fuzz_png.c: PNG decoding through libpng, from arbitrary bytes. */
#include <stdlib.h>

#include "../../workloads/data/dataset.h"
#include "../../workloads/data/png_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  png_fuzzing_mode(1);
  uint8_t *pix = NULL;
  int w, h;
  if (png_decode_gray8(data, size, "fuzz.png", &pix, &w, &h, err, sizeof err) == 0) {
    volatile uint8_t sink = pix[(size_t)w * h - 1]; /* every pixel must be addressable */
    (void)sink;
    free(pix);
  }
  return 0;
}
