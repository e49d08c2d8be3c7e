/* plots.h: pictures for reports. gnuplot (pngcairo) draws the timing bars, the scaling
 * sweeps and the training curves from a report; libpng writes the digit montage. Without
 * gnuplot the gnuplot plots are skipped with one message. Every output is atomic. */
#ifndef MLPB_PLOTS_H
#define MLPB_PLOTS_H

#include <stddef.h>

#include "report.h"

int plots_check_dir(const char *dir, char *err, size_t len);
int plots_have_gnuplot(void);
/* DIR/<workload>-epoch-time.png, DIR/<workload>-ranking.png (backends and peers in one
 * ranking, each bar with its library or framework and version, the step floor and the
 * machine peak as reference lines), and where the report has them DIR/<workload>-scaling.png
 * and DIR/<workload>-curves.png; 0, or -1 after a message when any plot could not be drawn
 * (the previous file of that name is then left as it was). */
int plots_draw(const char *dir, const report *r);
/* The one line saying where a command's plots went ("plots", "history plots"), or that some
 * failed and the previous ones are kept; said by the command that named DIR, never for a
 * private folder (report draws into one, removed before the user reads a message). */
void plots_say(const char *what, const char *dir, int failed);
/* DIR/<workload>-montage.png from the report's montage (nothing when it has none): up to 100
 * validation images, true and predicted label, misses framed red */
int plots_montage(const char *dir, const report_workload *w);

#endif
