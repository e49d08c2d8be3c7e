/* mlpbench list: every backend, available or not and why. */
#include <stdio.h>
#include <string.h>

#include "../impls/blas/blas.h"
#include "cli.h"
#include "registry.h"

int cmd_list(int argc, char **argv) {
  cli_opts o;
  int rc = cli_parse(argc, argv, "list", "", &o);
  if (rc) {
    if (rc < 0) cli_print_help("list", "", "Lists the backends and whether each can run here.");
    return rc < 0 ? EXIT_OK : rc;
  }
  printf("CPU: %s\n", cli_cpu_model());
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    char why[512] = "", desc[512] = "";
    int ok = be->available(why, sizeof why);
    if (ok && be->describe) be->describe(desc, sizeof desc);
    if (ok)
      printf("%-6s available    %s%s%s\n", be->name, be->summary, desc[0] ? "\n       " : "", desc);
    else
      printf("%-6s unavailable  %s\n", be->name, why);
  }
#ifdef MLPBENCH_HAVE_BLAS
  char advice[512];
  if (blas_backend_kernel_advice(advice, sizeof advice)) printf("\nwarning: %s\n", advice);
#endif
  return EXIT_OK;
}
