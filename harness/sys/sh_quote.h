/* sh_quote.h: text as one word of a POSIX shell command line, for the commands mlpbench prints
 * for a user to paste (conform's repro lines): single quotes around it, each ' inside written
 * as '\'' , so nothing in it ($(...), `...`, ;, a quote) is ever run. */
#ifndef MLPB_SH_QUOTE_H
#define MLPB_SH_QUOTE_H

#include <stdio.h>

/* Writes s quoted to f (an open_memstream or a file); a word of only safe characters
 * ([A-Za-z0-9_./,:=+-]) is written as it is. */
void sh_quote(FILE *f, const char *s);

#endif
