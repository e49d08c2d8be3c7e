/* mlpbench export RESULTS.json --format F [--out FILE]: a native results file in another
 * tracker's format, from the file alone (the run is not repeated), so one bench run feeds
 * compare and history and Bencher or github-action-benchmark alike. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
#include "../output/reporter.h"
#include "../output/results.h"
#include "../sys/term_text.h"
#include "cli.h"

static const cli_command export_cmd = {
    "export",
    "RESULTS.json",
    "Oo",
    1,
    1,
    "A results file in another tracker's format: gbench, github or bmf (default --out: beside "
    "RESULTS.json,\nas RESULTS.FORMAT.json).\n\n"
    "exit codes: 0 ok, 2 unreadable results file, unknown format or unwritable destination, 3 "
    "the export could not be written (disk full)"};

int cmd_export_results(int argc, char **argv) {
  cli_opts o;
  char err[PATH_MAX + 256], xp[PATH_MAX];
  int rc;
  if (cli_begin(&export_cmd, argc, argv, &o, &rc)) return rc;
  const char *file = o.args[0], *out = o.out;
  int format = o.plan.out.format;
  if (format == RESULTS_NATIVE) {
    fprintf(stderr, "mlpbench export: --format must be gbench, github or bmf%s\n",
            o.given[opt_by_key('O') - opt_get(0)] ? " (native is the file itself)" : "");
    return EXIT_USAGE;
  }
  if (!out) {
    if (results_export_path(file, (results_format)format, xp, sizeof xp)) {
      fprintf(stderr, "mlpbench export: %s: the export's name beside it is too long\n",
              TERM_TEXT(file));
      return EXIT_USAGE;
    }
    out = xp;
  }
  report r;
  if (results_read(file, &r, err, sizeof err)) {
    fprintf(stderr, "mlpbench export: %s\n", TERM_TEXT(err));
    return EXIT_USAGE;
  }
  rc = EXIT_OK;
  if (outfile_same(file, out)) {
    fprintf(stderr, "mlpbench export: --out %s is the results file: it would be replaced\n",
            TERM_TEXT(out));
    rc = EXIT_USAGE;
  } else if (outfile_check(out, err, sizeof err)) {
    fprintf(stderr, "mlpbench export: %s\n", TERM_TEXT(err));
    rc = EXIT_USAGE;
  } else if (reporter_results.write(&r, out, format, err, sizeof err)) {
    fprintf(stderr, "mlpbench export: %s\n", TERM_TEXT(err));
    rc = EXIT_RUNTIME;
  } else {
    fprintf(stderr, "mlpbench export: written to %s\n", TERM_TEXT(out));
  }
  report_free(&r);
  return rc;
}
