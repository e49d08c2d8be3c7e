/* mlpbench: train, time and cross-check MLP backends. */
#include <stdio.h>
#include <string.h>

#include "../backends/names.h"
#include "../output/report.h"
#include "../sys/exitcode.h"
#include "../sys/term_text.h"
#include "cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: mlpbench COMMAND [options]   (mlpbench COMMAND --help for its options)\n\n"
             "       mlpbench --version\n\n"
             "commands:\n"
             "  list        backends, available or not and why\n"
             "  train       train a workload on one or more backends\n"
             "  bench       per-epoch timing of every backend, after a gradient check\n"
             "  gradcheck   gradients of every backend against a float64 reference\n"
             "  export-png  write a data set as train.csv + PNG images (the tutorial's layout)\n"
             "  export      a results file in Google Benchmark's, github-action-benchmark's or "
             "Bencher's format\n"
             "  compare     the regression gate: Mann-Whitney U on two results files\n"
             "  plot        redraw the plots of a results file\n"
             "  history     series of results files over commits, with their step changes\n"
             "  report      one self-contained HTML page: tables, checks, plots, history\n"
             "  conform     the conformance suite: every slot of every backend against float64\n\n"
             "exit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 runtime failure\n"
             "(a backend failed, training diverged, out of memory)\n");
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } cmds[] = {{"list", cmd_list},
              {"train", cmd_train},
              {"bench", cmd_bench},
              {"gradcheck", cmd_gradcheck},
              {"export-png", cmd_export_png},
              {"export", cmd_export_results},
              {"compare", cmd_compare},
              {"plot", cmd_plot},
              {"history", cmd_history},
              {"report", cmd_report},
              {"conform", cmd_conform},
              {"conform-child", cmd_conform_child},  /* internal: conform's children */
              {"bench-process", cmd_bench_process}}; /* internal: bench --processes' children */
  cli_argv = argv;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("%s\n", report_version());
    return EXIT_OK;
  }
  char err[256];
  if (names_check_registries(err, sizeof err)) {
    fprintf(stderr, "mlpbench: this build's tables are inconsistent: %s\n", err);
    return EXIT_RUNTIME;
  }
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "mlpbench: unknown command '%s'\n\n", TERM_TEXT(argv[1]));
  usage(stderr);
  return EXIT_USAGE;
}
