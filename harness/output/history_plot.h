/* history_plot.h: one trend plot per workload and machine (gnuplot): each backend's run
 * medians in order with their IQR as bars, steps marked, commits on the x axis. */
#ifndef MLPB_HISTORY_PLOT_H
#define MLPB_HISTORY_PLOT_H

#include "history.h"

/* DIR/history-<workload>-<host>.png for each; 0, or -1 after a message when one failed. */
int history_plots(const char *dir, const history *h);

#endif
