#include "reporter.h"

#include <stdio.h>

#include "../../workloads/io/outfile.h"
#include "plots.h"
#include "results.h"
#include "table.h"

static int write_results(const report *r, const char *dest, int format, char *err, size_t len) {
  json_t *j = results_to_json(r, (results_format)format);
  if (!j) {
    snprintf(err, len, "%s: could not build the results JSON", dest);
    return -1;
  }
  int rc = results_write(dest, j, err, len);
  json_decref(j);
  return rc;
}

static int write_markdown(const report *r, const char *dest, int format, char *err, size_t len) {
  outfile md;
  (void)format;
  if (outfile_open(&md, dest, err, len)) return -1;
  fprintf(md.f, "# mlpbench results\n");
  for (int i = 0; i < r->n_wl; i++) {
    table_print_header(md.f, r, &r->wl[i]);
    table_print(md.f, &r->wl[i]);
  }
  return outfile_commit(&md, err, len);
}

/* every plot, the montage included; each failure has already said what it was */
static int write_plots(const report *r, const char *dest, int format, char *err, size_t len) {
  (void)format;
  int bad = plots_draw(dest, r) != 0;
  for (int k = 0; k < r->n_wl; k++)
    bad |= plots_montage(dest, &r->wl[k]) != 0;
  if (bad) snprintf(err, len, "%s: some plots were not drawn", dest);
  return bad ? -1 : 0;
}

const reporter reporter_results = {"results", write_results};
const reporter reporter_markdown = {"markdown", write_markdown};
const reporter reporter_plots = {"plots", write_plots};
