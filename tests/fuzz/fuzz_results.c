/* fuzz_results.c: the results JSON that `compare` and `plot` read, from arbitrary bytes. */
#include <jansson.h>

#include "../../harness/output/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t je;
  json_t *j = json_loadb((const char *)data, size, 0, &je);
  if (!j) return 0;
  report r;
  char err[512];
  if (results_from_json(j, &r, err, sizeof err) == 0) {
    for (int w = 0; w < r.n_wl; w++)
      for (int i = 0; i < r.wl[w].n_rows; i++) {
        report_row *row = &r.wl[w].rows[i];
        volatile double s = 0;
        for (int k = 0; k < row->n_samples; k++)
          s += row->samples[k] + row->cpu_samples[k];
        for (int k = 0; k < row->n_epochs; k++)
          s += row->epoch_loss[k] + row->epoch_val_acc[k];
        (void)s;
      }
  }
  report_free(&r);
  json_decref(j);
  return 0;
}
