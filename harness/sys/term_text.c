#include "term_text.h"

#include <stdint.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (1..4), its code point in *cp; 0 if invalid. */
static int utf8_seq(const unsigned char *s, uint32_t *cp) {
  unsigned char c = s[0];
  int n = c < 0x80             ? 1
          : (c & 0xE0) == 0xC0 ? 2
          : (c & 0xF0) == 0xE0 ? 3
          : (c & 0xF8) == 0xF0 ? 4
                               : 0;
  if (!n) return 0;
  uint32_t v = n == 1 ? c : c & (0x7F >> n);
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0; /* also stops at the terminating 0 */
    v = v << 6 | (s[i] & 0x3F);
  }
  static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < least[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0; /* overlong, surrogate */
  *cp = v;
  return n;
}

static const char *clean(char *out, size_t len, const char *s, int controls) {
  static const char fffd[] = "\xEF\xBF\xBD";
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    uint32_t cp = 0;
    int n = utf8_seq(p, &cp);
    const char *put = (const char *)p;
    size_t k = (size_t)n;
    if (!n) { /* one bad byte at a time, each shown */
      put = fffd;
      k = 3;
      n = 1;
    } else if (controls && (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))) {
      put = "?";
      k = 1;
    }
    if (o + k >= len) break; /* whole characters only */
    memcpy(out + o, put, k);
    o += k;
    p += n;
  }
  out[o] = '\0';
  return out;
}

const char *term_text(char *out, size_t len, const char *s) {
  return clean(out, len, s, 1);
}

const char *utf8_clean(char *out, size_t len, const char *s) {
  return clean(out, len, s, 0);
}

const char *md_cell(char *out, size_t len, const char *s) {
  char t[TERM_TEXT_MAX];
  term_text(t, len < sizeof t ? len : sizeof t, s);
  size_t o = 0;
  for (const char *p = t; *p;) {
    size_t n = 1; /* one character: a lead byte and its continuation bytes */
    while (((unsigned char)p[n] & 0xC0) == 0x80)
      n++;
    size_t need = n + (*p == '|');
    if (o + need >= len) break;
    if (*p == '|') out[o++] = '\\';
    memcpy(out + o, p, n);
    o += n;
    p += n;
  }
  out[o] = '\0';
  return out;
}
