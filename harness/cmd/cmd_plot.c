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

static const cli_command plot_cmd = {
    "plot",
    "RESULTS.json",
    "P",
    1,
    1,
    "Redraws every plot of a results file, the digit montage included (default DIR: "
    "plots).\n\n"
    "exit codes: 0 ok, 2 unreadable results file, unwritable folder or a digit montage the file "
    "holds broken (the other plots drawn), 3 a plot could not be drawn (the previous one is "
    "kept)"};

int cmd_plot(int argc, char **argv) {
  cli_opts o;
  char err[1024];
  int rc;
  if (cli_begin(&plot_cmd, argc, argv, &o, &rc)) return rc;
  const char *file = o.args[0];
  const char *dir = o.plan.out.plots ? o.plan.out.plots : "plots";
  report r;
  if (results_read(file, &r, err, sizeof err) || plots_check_dir(dir, err, sizeof err)) {
    fprintf(stderr, "mlpbench plot: %s\n", TERM_TEXT(err));
    return EXIT_USAGE;
  }
  interrupt_install(); /* gnuplot is stopped and the temp folder removed on a stop */
  rc = reporter_plots.write(&r, dir, 0, err, sizeof err) ? EXIT_RUNTIME : EXIT_OK;
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
