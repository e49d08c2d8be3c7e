/* memstat.h: this process's resident memory, from /proc/self (Linux). */
#ifndef MLPB_MEMSTAT_H
#define MLPB_MEMSTAT_H

/* Starts a peak measurement: resets the kernel's peak-RSS mark to the current RSS where the
 * kernel allows it (/proc/self/clear_refs, Linux 4.0+). Returns the current RSS in bytes,
 * or -1 when it cannot be read; *exact is 1 when the mark was reset, 0 when the peak read
 * later may be an earlier, higher one. */
double memstat_begin(int *exact);
/* The peak RSS in bytes since memstat_begin (VmHWM), or -1. */
double memstat_peak(void);

#endif
