#define _GNU_SOURCE
#include "machine_load.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "timer.h"

/* This process's CPU time, its threads' and its reaped children's (a peer's interpreter is
 * our work, not another's). */
static double own_cpu(void) {
  struct rusage ch;
  double c = timer_cpu_now();
  if (getrusage(RUSAGE_CHILDREN, &ch) == 0)
    c += (double)ch.ru_utime.tv_sec + 1e-6 * (double)ch.ru_utime.tv_usec +
         (double)ch.ru_stime.tv_sec + 1e-6 * (double)ch.ru_stime.tv_usec;
  return c;
}

static ssize_t read_small(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}

/* Busy and steal seconds over the cores in `mask`: the per-core lines of /proc/stat (user nice
 * system idle iowait irq softirq steal ...; guest time is inside user). Interrupt time counts
 * as busy: it is time our threads did not get. */
static int read_stat(const cpu_set_t *mask, double tick, double *busy, double *steal, int *cpus) {
  static char buf[1 << 16]; /* the per-core lines come first; the rest may be cut */
  ssize_t n = read_small("/proc/stat", buf, sizeof buf);
  if (n <= 0) return -1;
  unsigned long long b = 0, st = 0;
  int k = 0;
  for (char *line = buf; line && strncmp(line, "cpu", 3) == 0;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    int id;
    unsigned long long v[8] = {0};
    if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &id, &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7]) >= 8 &&
        id >= 0 && id < CPU_SETSIZE && CPU_ISSET(id, mask)) {
      b += v[0] + v[1] + v[2] + v[5] + v[6];
      st += v[7];
      k++;
    }
    line = next;
  }
  if (!k) return -1;
  *busy = (double)b * tick;
  *steal = (double)st * tick;
  *cpus = k;
  return 0;
}

/* Marks in `r` (by position in /proc/self/task) the threads of this process in state R. */
static int scan_running(unsigned char *r, int max) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int k = 0;
  while (d && (e = readdir(d)) && k < max) {
    char path[64], st[512];
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
    if (read_small(path, st, sizeof st) <= 0) continue;
    char *c = strrchr(st, ')'); /* the state follows the command name, which may hold spaces */
    r[k++] |= c && c[1] == ' ' && c[2] == 'R';
  }
  if (d) closedir(d);
  return k;
}

/* Runnable tasks on the machine (/proc/loadavg's fourth field, "R/T") less this process's
 * threads in state R (a spinning OpenMP worker is ours, not another's). A thread counts as
 * ours when it ran just before or just after the machine's figure was read, so one that
 * starts or stops spinning meanwhile is never taken for another's. At least 0. */
static double others_runnable(void) {
  enum { MAX_THREADS = 1024 };
  static unsigned char running[MAX_THREADS];
  char buf[256];
  int n_run = 0, total = 0, ours = 0;
  memset(running, 0, sizeof running);
  int k = scan_running(running, MAX_THREADS);
  ssize_t got = read_small("/proc/loadavg", buf, sizeof buf);
  int k2 = scan_running(running, MAX_THREADS); /* the same order: readdir of one folder */
  if (got <= 0 || sscanf(buf, "%*s %*s %*s %d/%d", &n_run, &total) != 2) return NAN;
  for (int i = 0; i < (k > k2 ? k : k2); i++)
    ours += running[i];
  return n_run > ours ? n_run - ours : 0;
}

void load_snap_take(load_snap *s) {
  struct rusage ru, ch;
  cpu_set_t mask;
  memset(s, 0, sizeof *s);
  /* a reaped child's switches are ours too (a peer's interpreter) */
  s->ivcsw = getrusage(RUSAGE_SELF, &ru) == 0 && getrusage(RUSAGE_CHILDREN, &ch) == 0
                 ? (double)ru.ru_nivcsw + (double)ch.ru_nivcsw
                 : NAN;
  s->tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
  s->online = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (sched_getaffinity(0, sizeof mask, &mask)) {
    CPU_ZERO(&mask);
    for (int i = 0; i < CPU_SETSIZE; i++)
      CPU_SET(i, &mask);
  }
  s->others_runnable = others_runnable();
  s->own_in = own_cpu();
  s->wall = timer_now();
  s->ok = read_stat(&mask, s->tick, &s->busy, &s->steal, &s->cpus) == 0 &&
          isfinite(s->others_runnable) && isfinite(s->ivcsw);
  s->own_out = own_cpu();
}

void load_delta_of(const load_snap *a, const load_snap *b, load_delta *d) {
  memset(d, 0, sizeof *d);
  d->ok = a->ok && b->ok;
  d->wall = b->wall - a->wall;
  d->cpus = b->cpus;
  if (!d->ok) {
    d->other_cpu = d->steal = d->ivcsw = d->runnable = d->var = NAN;
    return;
  }
  /* our CPU over the widest span (out of the first read, into the second): the reads
   * themselves are ours, and never counted as another's */
  d->other_cpu = (b->busy - a->busy) - (b->own_out - a->own_in);
  d->steal = b->steal - a->steal;
  d->ivcsw = b->ivcsw - a->ivcsw;
  /* the runnable count is the whole machine's: it speaks for our cores only when they are all
   * of them (a run pinned to a few cores of a busy machine is judged by their ticks alone) */
  d->runnable = b->cpus >= b->online ? 0.5 * (a->others_runnable + b->others_runnable) : NAN;
  /* each core's counter is cut to a whole tick at each end: the difference of two uniform
   * errors, variance tick^2 / 6 per core */
  d->var = (double)b->cpus * b->tick * b->tick / 6.0;
}
