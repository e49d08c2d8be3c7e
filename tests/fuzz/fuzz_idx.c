/* fuzz_idx.c: IDX decoding, raw or gzip, from arbitrary bytes. */
#include <stdlib.h>

#include "../../workloads/data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  idx_array a;
  uint8_t *plain = NULL;
  size_t n = 0;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    if (gz_inflate(data, size, "fuzz.gz", &plain, &n, err, sizeof err) == 0 &&
        idx_decode(plain, n, "fuzz", &a, err, sizeof err) == 0)
      free(a.data);
    free(plain);
    return 0;
  }
  if (idx_decode(data, size, "fuzz", &a, err, sizeof err) == 0) {
    idx_array lab = {.ndim = 1, .dims = {a.dims[0]}, .data = calloc((size_t)a.dims[0], 1)};
    mlpb_dataset d = {0};
    if (lab.data && idx_to_dataset(&a, &lab, "img", "lab", 0, &d, err, sizeof err) == 0)
      dataset_free(&d);
    free(a.data);
    free(lab.data);
  }
  return 0;
}
