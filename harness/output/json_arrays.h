/* json_arrays.h: the bulk of a results file is its arrays of numbers (every timing sample,
 * six figures each). jansson makes a node of each (about 40 bytes for a 2-byte "1,"), so a
 * 60 MiB file of short numbers took 1.5 GB and seconds to load. These arrays are decoded
 * here, straight into doubles, before jansson sees the text: each is replaced in place by a
 * small object naming its entry in a side table (the same bytes and lines, so jansson's
 * messages about the rest still point at the right line), and the reader takes the doubles
 * from the table (json_arrays_find). Anything that is not plainly an array of JSON numbers
 * and nulls is left to jansson, which still judges the file. */
#ifndef MLPB_JSON_ARRAYS_H
#define MLPB_JSON_ARRAYS_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
  double *v; /* NaN for null; NULL once taken */
  size_t n;
} json_num_array;

typedef struct {
  json_num_array *a;
  size_t n, cap;
} json_arrays;

/* Arrays of at least JSON_ARRAYS_MIN numbers or nulls in text[0..n) into t, each replaced by
 * its placeholder. Text that already holds the placeholder's key is left alone (nothing a
 * file says can pass for one). 0, or -1 when out of memory (t freed, text unchanged). */
#define JSON_ARRAYS_MIN 32
int json_arrays_extract(char *text, size_t n, json_arrays *t);

/* The array the placeholder v stands for (n always; v until a caller takes it, setting it to
 * NULL and freeing it later), or NULL when v is not a placeholder of t (t may be NULL). */
json_num_array *json_arrays_find(json_arrays *t, const json_t *v);

void json_arrays_free(json_arrays *t);

#endif
