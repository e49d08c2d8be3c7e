/* mlpbench plot RESULTS.json --plots DIR: redraws every plot of a saved run, the digit
 * montage included (its images and predictions are in the results file). */
#include <stdio.h>
#include <string.h>

#include "../output/plots.h"
#include "../output/reporter.h"
#include "../output/results.h"
#include "../sys/interrupt.h"
#include "../sys/term_text.h"
#include "cli.h"

int cmd_plot(int argc, char **argv) {
  const char *file = NULL, *dir = "plots";
  char err[1024];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf(
          "usage: mlpbench plot RESULTS.json [--plots DIR]   (default DIR: plots)\n\n"
          "exit codes: 0 ok, 2 unreadable results file, unwritable folder or a digit montage the "
          "file holds broken (the other plots drawn), 3 a plot could not be drawn (the previous "
          "one is kept)\n");
      return EXIT_OK;
    }
    if (strcmp(argv[i], "--plots") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (argv[i][0] != '-' && !file)
      file = argv[i];
    else {
      return cli_stray("plot", argv, argc, i, "mlpbench plot RESULTS.json [--plots DIR]");
    }
  }
  if (!file) {
    fprintf(stderr, "mlpbench plot: needs a results file (see --help)\n");
    return EXIT_USAGE;
  }
  report r;
  int rc;
  if (results_read(file, &r, err, sizeof err) || plots_check_dir(dir, err, sizeof err)) {
    fprintf(stderr, "mlpbench plot: %s\n", TERM_TEXT(err));
    return EXIT_USAGE;
  }
  interrupt_install(); /* gnuplot is stopped and the temp folder removed on a stop */
  rc = reporter_plots.write(&r, dir, 0, err, sizeof err) ? EXIT_RUNTIME : EXIT_OK;
  plots_say("plots", dir, rc != EXIT_OK);
  /* the file promised a montage it does not hold whole: say so, never a silent exit 0 */
  for (int k = 0; k < r.n_wl; k++) {
    const report_montage *m = &r.wl[k].montage;
    const char *why = m->dropped                  ? "its data is not whole or out of range"
                      : m->n > 0 && m->side != 28 ? "its images are not 28x28"
                                                  : NULL;
    if (!why) continue;
    fprintf(stderr, "mlpbench plot: %s: workload %s: digit montage not drawn: %s\n",
            TERM_TEXT(file), TERM_TEXT(r.wl[k].name), why);
    if (rc == EXIT_OK) rc = EXIT_USAGE;
  }
  report_free(&r);
  if (mlpb_stop_signal) return interrupt_exit_code();
  return rc;
}
