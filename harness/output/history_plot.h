/* history_plot.h: one trend plot per workload and machine (gnuplot): each backend's run
 * medians in order with their IQR as bars, steps marked, commits on the x axis. */
#ifndef MLPB_HISTORY_PLOT_H
#define MLPB_HISTORY_PLOT_H

#include "history.h"

#include <stddef.h>

/* DIR/<history_plot_name>.png for each; 0, or -1 after a message when one failed. */
int history_plots(const char *dir, const history *h);

/* history-<workload>-<CPU>-<hash of the machine key>, every part through safe_name: named
 * from the machine, not the host name, so two machines never write one file. */
void history_plot_name(const hist_series *s, char *out, size_t len);

/* The legend of series s: its backend, and whichever facts tell it from the other series of
 * that backend in its plot (threads, BLAS kernel, training samples, batch, sampling, data),
 * so no two entries read alike ("blas, 2 threads, 420 train"). */
void history_series_label(const history *h, const hist_series *s, char *out, size_t len);

#endif
