#include "names.h"

#include <stdio.h>
#include <string.h>

#include "../../workloads/workload.h"
#include "../output/report.h"
#include "peer_names.h"
#include "registry.h"

/* a name that fits MLP_NAME_MAX is never cut by a report's field */
_Static_assert(sizeof(((report_row *)0)->backend) > MLP_NAME_MAX, "backend field too short");
_Static_assert(sizeof(((report_workload *)0)->name) > MLP_NAME_MAX, "workload field too short");

static const char *name_fault(const char *s, int max) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0) return "empty";
  if (n > (size_t)max) return "too long";
  if (s[0] < 'a' || s[0] > 'z') return "does not start with a lowercase letter";
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return "holds a character outside [a-z0-9_-]";
  }
  /* a list option reads "all" as every name: a backend called that could never be named alone */
  if (strcmp(s, "all") == 0) return "is reserved (\"all\" means every one in a list)";
  return NULL;
}

int names_check(const char *const *names, int n, int max, const char *what, char *err, size_t len) {
  for (int i = 0; i < n; i++) {
    const char *why = name_fault(names[i], max);
    if (why) {
      /* shown whole up to 64 bytes (a name one too long must be seen whole to be fixed), and
       * its bytes filtered by whoever prints err (term_text) */
      const char *nm = names[i] ? names[i] : "";
      snprintf(err, len, "%s %d ('%.64s%s'): its name %s (1 to %d characters of [a-z0-9_-])", what,
               i + 1, nm, strlen(nm) > 64 ? "..." : "", why, max);
      return -1;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0) {
        snprintf(err, len, "%s '%s' is named twice", what, names[i]);
        return -1;
      }
  }
  return 0;
}

int names_check_registries(char *err, size_t len) {
  const char *rows[64], *wls[64];
  int nr = 0, nw = 0, np = 0;
  while (peers_known[np])
    np++;
  if (registry_count() + np > 64 || workload_count() > 64) {
    snprintf(err, len, "more than 64 backends and peers, or workloads");
    return -1;
  }
  for (int i = 0; i < registry_count(); i++)
    rows[nr++] = registry_get(i)->name;
  for (int i = 0; i < np; i++)
    rows[nr++] = peers_known[i];
  for (int i = 0; i < workload_count(); i++)
    wls[nw++] = workload_get(i)->name;
  if (names_check(rows, nr, MLP_NAME_MAX, "backend or peer", err, len)) return -1;
  return names_check(wls, nw, MLP_NAME_MAX, "workload", err, len);
}

/* Levenshtein distance, for names of at most MLP_NAME_MAX characters (longer ones: far) */
static int edit_distance(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  if (na > 64 || nb > 64) return 99;
  int row[65];
  for (size_t j = 0; j <= nb; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= na; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= nb; j++) {
      int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[nb];
}

const char *names_nearest(const char *s, const char *const *cands, int n) {
  const char *best = NULL;
  int bd = 3; /* two edits at most: a typo, not another word */
  for (int i = 0; i < n; i++) {
    int d = edit_distance(s, cands[i]);
    if (d < bd && d * 3 <= (int)strlen(cands[i]) + 2) bd = d, best = cands[i];
  }
  return best;
}
