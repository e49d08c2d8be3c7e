#include "memstat.h"

#include <stdio.h>
#include <string.h>

/* One "Key:   N kB" line of /proc/self/status, in bytes; -1 when absent. */
static double status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double v = -1.0;
  size_t n = strlen(key);
  if (!f) return -1.0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      long kb = -1;
      if (sscanf(line + n + 1, "%ld", &kb) == 1 && kb >= 0) v = (double)kb * 1024.0;
      break;
    }
  fclose(f);
  return v;
}

double memstat_begin(int *exact) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  *exact = 0;
  if (f) { /* "5" resets the peak RSS mark to the current RSS */
    *exact = fputs("5", f) >= 0;
    *exact &= fclose(f) == 0;
  }
  return status_kb("VmRSS");
}

double memstat_peak(void) {
  return status_kb("VmHWM");
}
