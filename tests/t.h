/* t.h: the few macros mlpbench's C tests need. A failed check prints file:line and the
 * values; the test binary exits 1 if any check failed. */
#ifndef MLPB_T_H
#define MLPB_T_H

#include <stdio.h>
#include <string.h>

static int t_failures;

#define T_CHECK(cond, ...)                                                                         \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      t_failures++;                                                                                \
    }                                                                                              \
  } while (0)

#define T_RUN(fn)                                                                                  \
  do {                                                                                             \
    int t_before_ = t_failures;                                                                    \
    fn();                                                                                          \
    printf("%s %s\n", t_failures == t_before_ ? "ok  " : "FAIL", #fn);                             \
    fflush(stdout);                                                                                \
  } while (0)

#define T_EXIT() return t_failures ? 1 : 0

/* ctest treats this exit code as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt). */
#define T_SKIP_CODE 77

#endif
