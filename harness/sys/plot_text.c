#include "plot_text.h"

#include <string.h>

static int is_ctrl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

/* gnuplot 5.4's scanner mis-reads a doubled quote at the start of a literal or next to
 * another one, so a quote is never doubled: the text is cut at each quote and rebuilt as
 * ('abc' . "'" . 'def'); a double-quoted string holding only a quote has nothing to
 * substitute. */
void gp_quote(FILE *f, const char *s) {
  int parts = strchr(s, '\'') != NULL;
  if (parts) fputc('(', f);
  fputc('\'', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (is_ctrl(*p)) continue;
    if (*p == '\'')
      fputs("' . \"'\" . '", f);
    else
      fputc(*p, f);
  }
  fputc('\'', f);
  if (parts) fputc(')', f);
}

void gp_data_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    fputc(is_ctrl(*p) ? ' ' : *p == '"' ? '\'' : *p == '\\' ? '/' : *p, f);
  fputc('"', f);
}

void safe_name(char *out, size_t len, const char *s) {
  size_t n = 0;
  if (!len) return;
  for (; *s && n + 1 < len; s++) {
    char c = *s;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || (c == '.' && n > 0);
    out[n++] = ok ? c : '_';
  }
  if (!n && len > 1) out[n++] = '_';
  out[n] = '\0';
}
