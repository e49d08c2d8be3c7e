/* term_text.h: the one rule for text that reaches a terminal, as gp_quote is for gnuplot and
 * the HTML escaper for the report. Every string that came from a results file, an option, a
 * path, the environment or the host (names, host, CPU, commands, messages quoting them) goes
 * through term_text() before stdout or stderr:
 *  - control characters (C0, DEL, and C1 U+0080..U+009F, which some terminals obey as ESC [)
 *    become '?', so no escape sequence, carriage return or newline can retitle the terminal,
 *    clear it or forge a line of a table;
 *  - invalid UTF-8 becomes U+FFFD, never dropped, so what was there stays visible;
 *  - a cut, when the destination is short, falls on a character boundary.
 * utf8_clean() is the same without the control rule, for strings kept in files (JSON must be
 * valid UTF-8, and a cut inside a character would make jansson refuse the whole string). */
#ifndef MLPB_TERM_TEXT_H
#define MLPB_TERM_TEXT_H

#include <stddef.h>

/* s made safe for a terminal into out (len > 0 bytes, always terminated); returns out. */
const char *term_text(char *out, size_t len, const char *s);
/* s with invalid UTF-8 replaced by U+FFFD, cut on a character boundary to fit; returns out. */
const char *utf8_clean(char *out, size_t len, const char *s);

/* term_text() for a Markdown table cell: each '|' escaped as "\|", so no string adds a column;
 * cut on a character boundary to fit len. Returns out. */
const char *md_cell(char *out, size_t len, const char *s);

/* term_text() into a buffer that lives to the end of the enclosing block (a compound
 * literal), for a printf argument: fprintf(stderr, "%s\n", TERM_TEXT(err)). It holds a
 * path-sized message even when every byte of it became U+FFFD; longer text is cut on a
 * character boundary. */
#define TERM_TEXT_MAX 4096
#define TERM_TEXT(s) term_text((char[TERM_TEXT_MAX]){0}, TERM_TEXT_MAX, (s))
#define MD_CELL(s) md_cell((char[TERM_TEXT_MAX]){0}, TERM_TEXT_MAX, (s))

#endif
