/* mlpbench export-png: any data set out as the tutorial's train.csv + images/ layout. */
#include <stdio.h>

#include "../sys/interrupt.h"
#include "../sys/term_text.h"
#include "cli.h"

static const char *export_allowed = "dno";

int cmd_export_png(int argc, char **argv) {
  cli_opts o;
  char err[1024];
  mlpb_dataset d;
  int rc = cli_parse(argc, argv, "export-png", export_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("export-png", export_allowed,
                     "Writes the training samples of --data as OUT/train.csv (filename,label) "
                     "and OUT/images/NNNNN.png.");
    return rc < 0 ? EXIT_OK : rc;
  }
  if (!o.out) {
    fprintf(stderr, "mlpbench export-png: --out DIR is required\n");
    return EXIT_USAGE;
  }
  if (dataset_load(o.plan.data, &d, err, sizeof err)) {
    fprintf(stderr, "mlpbench export-png: %s\n", TERM_TEXT(err));
    return EXIT_USAGE;
  }
  dataset_truncate(&d, o.plan.wl.limit);
  rc = EXIT_OK;
  interrupt_install();
  int st = dataset_export_png(&d, o.out, &mlpb_stop_signal, err, sizeof err);
  if (st) {
    fprintf(stderr, "mlpbench export-png: %s%s\n", TERM_TEXT(err),
            st == -2 ? ": nothing written, the folder is as it was" : "");
    rc = st == -2 ? interrupt_exit_code() : EXIT_USAGE;
  } else {
    printf("wrote %d images of %s to %s/train.csv and %s/images/\n", d.n_train, TERM_TEXT(d.name),
           TERM_TEXT(o.out), TERM_TEXT(o.out));
  }
  dataset_free(&d);
  return rc;
}
