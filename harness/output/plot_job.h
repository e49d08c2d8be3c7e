/* plot_job.h: one gnuplot picture made safely (see plot_text.h for the quoting rule): its
 * script, data and PNG live in a private mkdtemp folder, so no user path ever appears in a
 * script; a PNG gnuplot finished (exit 0, PNG signature, IEND chunk) is copied into the
 * user's folder through outfile (mkstemp, fsync, rename). A failure leaves the old plot in
 * place, is reported, and marks the job failed. */
#ifndef MLPB_PLOT_JOB_H
#define MLPB_PLOT_JOB_H

#include <stdio.h>

typedef struct {
  const char *dir, *tmp; /* the user's folder; our private temp folder */
  int failed;
} plot_job;

/* Opens TMP/NAME.gp and TMP/NAME.dat (its path into dat_path) and starts the script:
 * a noenhanced pngcairo terminal of w x h and the (temp) output. */
int job_begin(plot_job *j, const char *name, int w, int h, FILE **gp, FILE **dat, char *dat_path,
              size_t dlen);
/* Closes both, runs gnuplot, checks the PNG and puts it in place as DIR/NAME.png. */
void job_end(plot_job *j, const char *name, FILE *gp, FILE *dat, const char *what);

#endif
