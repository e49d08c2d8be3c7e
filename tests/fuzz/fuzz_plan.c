/* fuzz_plan.c: a bench-process plan file, from arbitrary bytes: decoded through the option
 * table's setters (plan_read), then, where it names no plugin and no output (which would load
 * code or create folders), planned as a command line is (opt_plan). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../harness/run/plan_file.h"

static char path[256];

static void remove_file(void) {
  if (path[0]) unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/mlpbench-fuzz-plan-XXXXXX", t && *t == '/' ? t : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) abort();
    close(fd);
    atexit(remove_file);
  }
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  fwrite(data, 1, size, f);
  fclose(f);
  opt_values *o;
  char err[1024];
  if (plan_read(path, &o, err, sizeof err) == 0) {
    const run_plan *p = &o->plan;
    int worst;
    if (!o->libs.n && !p->out.results && !p->out.markdown && !p->out.plots) {
      o->load_libs = 0;
      if (opt_plan(o, "all", &worst) == 0 &&
          (p->n_backends > PLAN_MAX_BACKENDS || p->n_peers > PLAN_MAX_PEERS ||
           p->n_workloads > PLAN_MAX_WORKLOADS || (p->wl.lr_set && !(p->wl.lr > 0))))
        abort(); /* a plan accepted outside the table's ranges */
    }
    plan_release();
  }
  return 0;
}
