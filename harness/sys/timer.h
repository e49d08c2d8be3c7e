/* timer.h: a monotonic clock for epoch timing. */
#ifndef MLPB_TIMER_H
#define MLPB_TIMER_H

double timer_now(void);        /* seconds, CLOCK_MONOTONIC */
double timer_resolution(void); /* seconds, as the clock reports it */
double timer_cpu_now(void);    /* seconds of CPU time used by this process, all threads */

#endif
