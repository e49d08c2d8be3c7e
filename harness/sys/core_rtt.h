/* core_rtt.h: how far apart the host keeps two of this process's cores, as the round trip of
 * one cache line between them. A virtual machine's host may place its vCPUs on one core
 * complex and later on two (another CCD or socket); everything that crosses cores (a
 * fork-join, a product's output read by the other thread, Adam's split) then runs 1.5-2x
 * slower, and nothing in /proc says so. Measured on a 2-vCPU EPYC guest: 50-90 ns in one
 * placement, 340-760 ns in the other. */
#ifndef MLPB_CORE_RTT_H
#define MLPB_CORE_RTT_H

/* The round trip, in ns, between the first two CPUs this process may run on:
 * the best of a few batches, within about budget_s seconds in all (a partner thread that gets
 * no time slice, on a busy machine, reads slow rather than hanging). NaN when the process may
 * run on one CPU only or a thread cannot be started. The caller's CPU affinity is restored. */
double core_rtt_ns(double budget_s);
#define CORE_RTT_BUDGET_S 0.02 /* a row's probe: 2000 round trips take 0.1-1.5 ms */

/* Whether two round trips, at a row's start and end, say its cores were moved between:
 * one more than CORE_RTT_RATIO times the other and the larger beyond CORE_RTT_FAR_NS. */
#define CORE_RTT_RATIO 2.5
#define CORE_RTT_FAR_NS 200.0
int core_rtt_moved(double start_ns, double end_ns);

#endif
