#include "plan.h"

#include "../output/report.h"

_Static_assert(PLAN_MAX_BACKENDS + PLAN_MAX_PEERS <= REPORT_MAX_ROWS,
               "a report must hold a row for every backend and peer a plan can name");

int plan_repeat(const run_plan *p, const workload *w) {
  return p->repeat ? p->repeat : w->default_repeat;
}

int plan_block(const run_plan *p, const workload *w) {
  if (!w->default_block) return 1; /* one epoch per sample: --block is for sub-us epochs */
  return p->block ? p->block : w->default_block;
}
