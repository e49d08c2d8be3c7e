/* fuzz_conform.c: conform's child protocol (check/conform_proto.c), as the parent reads it:
 * arbitrary bytes as a child's report lines, taken until the first that breaks the protocol,
 * as cmd_conform.c does; every result let through must name a check given to the child, a
 * known status and a message safe for a terminal. Then the same bytes as the strings a child
 * sends (a name, paths, a message): what cp_send_* writes must read back as what was meant. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/check/conform.h"
#include "../../harness/check/conform_proto.h"

static void must(int ok) {
  if (!ok) abort();
}

static int term_safe(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
  return 1;
}

static void read_lines(const char *buf, size_t size, int first, int last) {
  cp_child c;
  cp_begin(&c, first, last);
  char line[1024], msg[600];
  size_t at = 0;
  while (at < size) { /* as child_line cuts them: at a newline, or at the buffer's size */
    const char *nl = memchr(buf + at, '\n', size - at);
    size_t n = nl ? (size_t)(nl - (buf + at)) : size - at;
    int cut = n >= sizeof line || !nl;
    size_t keep = n < sizeof line ? n : sizeof line - 1;
    memcpy(line, buf + at, keep);
    line[keep] = '\0';
    at += n + (nl != NULL);
    if (memchr(line, '\0', keep)) cut = 1; /* a NUL inside: the parent sees a shorter line */
    int check = -1, status = -1, k = cp_take(&c, line, cut, &check, &status, msg, sizeof msg);
    must(k >= CP_NOTHING && k <= CP_BROKEN);
    if (k == CP_BROKEN) {
      must(c.broke[0] != '\0');
      break;
    }
    if (k == CP_RESULT)
      must(check >= first && check < last && status >= CF_PASSED && status <= CF_SKIPPED &&
           term_safe(msg) && c.got_backend);
    if (k == CP_BACKEND) must(c.name[0] && term_safe(c.why) && term_safe(c.paths));
    if (k == CP_ERROR) must(term_safe(c.error));
    must(c.next <= last && (c.current < 0 || (c.current >= first && c.current < last)));
  }
}

static void round_trip(const char *s) {
  char *out = NULL, msg[600];
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (!f) return;
  cp_send_backend(f, "fuzz", 1, "", s);
  cp_send_start(f, 0);
  cp_send_result(f, 0, CF_FAILED, s);
  fclose(f);
  cp_child c;
  cp_begin(&c, 0, 1);
  int check, status, k[3] = {-1, -1, -1}, i = 0;
  for (char *save = NULL, *line = strtok_r(out, "\n", &save); line && i < 3;
       line = strtok_r(NULL, "\n", &save))
    k[i++] = cp_take(&c, line, strlen(line) >= 1023, &check, &status, msg, sizeof msg);
  /* a message that fits arrives whole, as one line of each kind */
  if (strlen(s) < 200) must(k[0] == CP_BACKEND && k[1] == CP_NOTHING && k[2] == CP_RESULT);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  int first = size ? data[0] % 4 : 0;
  read_lines(buf, size, first, conform_count());
  round_trip(buf);
  free(buf);
  return 0;
}
