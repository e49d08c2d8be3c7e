/* fuzz_plan.c: a `bench-process` plan file (plan_file.c), from arbitrary bytes: what a
 * --processes child reads, and what anyone may hand `mlpbench bench-process`. The bytes go to
 * a file of this process's own (plan_read takes a path); a plan that reads back is released. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../harness/engine/plan_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/mlpbench-fuzz-plan-%ld.json", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  run_plan p;
  char err[512];
  if (plan_read(path, &p, err, sizeof err) == 0) plan_release(&p);
  unlink(path);
  return 0;
}
