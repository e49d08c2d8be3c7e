/* fuzz_csv.c: the CSV line parser, line by line over arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "../../workloads/data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *name;
    int label;
    const char *why;
    if (csv_parse_line(line, &name, &label, &why) == 0 && (label < 0 || label > 9 || !*name))
      abort(); /* a parsed line must hold a name and a label 0..9 */
  }
  free(buf);
  return 0;
}
