/* plot_text.h: the one door through which text reaches a gnuplot script or a file name.
 *
 * The rule, for every string that came from a results file, an option, a path or the
 * environment (names, CPU model, data set, dates, folders):
 *  - in a script it is written only by gp_quote(), as a single-quoted gnuplot literal:
 *    gnuplot performs no backquote, macro (@) or backslash substitution inside single quotes;
 *    a quote in the text ends the literal and comes back as the expression "'" joined with
 *    '.', and control characters (newlines above all) are dropped, so the string can neither
 *    escape its literal nor start a new command line. The result is a string expression,
 *    usable wherever gnuplot takes one (titles, labels, file names);
 *  - the terminal runs with `noenhanced`, so ^ _ @ { } in such text are shown, not parsed;
 *  - in a data file it is written by gp_data_str(): double quotes and control characters are
 *    replaced, so a field cannot split into others;
 *  - in a file name it becomes safe_name(): [A-Za-z0-9._-] only, no leading dot, never empty,
 *    so no name can climb out of the folder the user named.
 * Numbers are formatted by us with %g/%d and need none of this. */
#ifndef MLPB_PLOT_TEXT_H
#define MLPB_PLOT_TEXT_H

#include <stddef.h>
#include <stdio.h>

void gp_quote(FILE *f, const char *s);
void gp_data_str(FILE *f, const char *s);
/* out gets s with every other byte turned into '_' (at most len-1 bytes). */
void safe_name(char *out, size_t len, const char *s);

#endif
