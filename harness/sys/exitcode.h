/* exitcode.h: mlpbench's exit codes (documented in the README and `mlpbench --help`). */
#ifndef MLPB_EXITCODE_H
#define MLPB_EXITCODE_H

enum {
  EXIT_OK = 0,      /* success */
  EXIT_CHECK = 1,   /* a correctness check failed (gradcheck tolerance, bench flags) */
  EXIT_USAGE = 2,   /* bad command line or bad input data */
  EXIT_RUNTIME = 3, /* a backend failed, training diverged (NaN), or out of memory */
};

#endif
