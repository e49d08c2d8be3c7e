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

int cmd_export_results(int argc, char **argv) {
  const char *file = NULL, *out = NULL;
  int format = -1;
  char err[PATH_MAX + 256], xp[PATH_MAX];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: mlpbench export RESULTS.json --format gbench|github|bmf [--out FILE]\n"
             "  (default FILE: beside RESULTS.json, as RESULTS.FORMAT.json)\n\n"
             "exit codes: 0 ok, 2 unreadable results file, unknown format or unwritable "
             "destination, 3 the export could not be written (disk full)\n");
      return EXIT_OK;
    }
    if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
      format = results_format_find(argv[++i]);
      if (format <= RESULTS_NATIVE) {
        fprintf(stderr, "mlpbench export: --format must be gbench, github or bmf (got '%s')\n",
                TERM_TEXT(argv[i]));
        return EXIT_USAGE;
      }
    } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else if (argv[i][0] != '-' && !file) {
      file = argv[i];
    } else {
      return cli_stray("export", argv, argc, i,
                       "mlpbench export RESULTS.json --format F [--out FILE]");
    }
  }
  if (!file || format < 0) {
    fprintf(stderr, "mlpbench export: needs a results file and --format (see --help)\n");
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
  int rc = EXIT_OK;
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
