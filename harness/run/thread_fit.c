#include "thread_fit.h"

#include <math.h>

int thread_fit(int asked, int cpus, double other_cores, double resolution) {
  if (asked <= 1 || !isfinite(other_cores) || !(other_cores > resolution))
    return asked < 1 ? 1 : asked;
  /* the cores our threads do not need absorb other work first */
  double on_ours = other_cores - (cpus > asked ? cpus - asked : 0);
  if (on_ours <= THREAD_FIT_SLACK) return asked;
  int drop = (int)ceil(on_ours - THREAD_FIT_SLACK);
  return drop >= asked ? 1 : asked - drop;
}
