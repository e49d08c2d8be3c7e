/* table.c: the Markdown table, on a terminal and in a file. Every string in it came from a
 * results file, the host or the environment, so it goes through term_text (TT): no control
 * character from it can retitle a terminal, clear it or start a forged line. */
#include "table.h"

#include <math.h>
#include <string.h>

#include "../sys/term_text.h"

#define TT(s) TERM_TEXT(s)

#define TC(s) MD_CELL(s) /* a table cell: no string adds a column */

void table_fmt_time(char *buf, size_t len, double s) {
  if (s < 1e-3)
    snprintf(buf, len, "%.3f us", s * 1e6);
  else if (s < 1.0)
    snprintf(buf, len, "%.2f ms", s * 1e3);
  else
    snprintf(buf, len, "%.3f s", s);
}

void table_fmt_mib(char *buf, size_t len, double bytes) {
  if (isfinite(bytes))
    snprintf(buf, len, "%.1f MiB", bytes / 1048576.0);
  else
    snprintf(buf, len, "-");
}

void table_fmt_memory(char *buf, size_t len, const report_row *r) {
  int n = 0;
  if (isfinite(r->host_peak_growth))
    n = snprintf(buf, len, "RSS +%.1f MiB%s", r->host_peak_growth / 1048576.0,
                 r->host_peak_exact ? "" : " (peak not reset)");
  if (isfinite(r->device_bytes) && n >= 0 && (size_t)n < len)
    n +=
        snprintf(buf + n, len - n, "%sdevice %.0f MiB", n ? "; " : "", r->device_bytes / 1048576.0);
  if (n == 0) snprintf(buf, len, "-");
}

void table_print_header(FILE *f, const report *r, const report_workload *w) {
  const report_context *c = &r->ctx;
  fprintf(f, "\n## %s %d-%d-%d", TT(w->name), w->spec.n_in, w->spec.n_hidden, w->spec.n_out);
  if (!w->full_batch)
    fprintf(f, " on %s (hash %016llx): %d train / %d val, batch %d, %d steps/epoch, %s%s",
            TT(w->dataset), (unsigned long long)w->dataset_hash, w->n_train, w->n_val, w->batch,
            w->batches_per_epoch, TT(w->sampling), w->zero_grad ? "" : ", no zero_grad");
  else
    fprintf(f, " on %s, %s, timed in blocks of %d epochs",
            TT(w->dataset_source[0] ? w->dataset_source : w->dataset), TT(w->sampling), w->block);
  fprintf(f,
          "\n\n%s; %s (%d cores; %s); %s; %d epochs x %d runs, first %d sample(s) of each run "
          "dropped; seed %llu; FTZ/DAZ %s; %.4g GFLOP of GEMM per epoch\n",
          TT(c->date), TT(c->cpu), c->cores, TT(c->caches), TT(c->commit), w->epochs, w->repeat,
          w->warmup, (unsigned long long)c->seed, c->ftz ? "on" : "off", w->gflop_per_epoch);
  if (strcmp(c->blas_library, REPORT_PER_ROW) == 0)
    fprintf(f, "BLAS: per row (the rows ran different math libraries; the results file holds "
               "each row's library, kernel and threads)\n");
  else if (c->blas_library[0])
    fprintf(f, "BLAS: %s; kernel %s%s%s%s; %d threads\n", TT(c->blas_library), TT(c->blas_kernel),
            c->blas_kernel_by[0] ? " (chosen by " : "", TT(c->blas_kernel_by),
            c->blas_kernel_by[0] ? ")" : "", c->blas_threads);
  if (c->wait_policy[0]) fprintf(f, "Idle threads wait: %s\n", TT(c->wait_policy));
  if (isfinite(c->peak_gflops)) {
    fprintf(f,
            "Machine peak: %.1f GFLOP/s FP32 (%s; what this library reaches here, not a "
            "datasheet figure%s%s)\n",
            c->peak_gflops, TT(c->peak_by), c->peak_at[0] ? "; measured " : "", TT(c->peak_at));
    if (c->peak_disturbed[0])
      fprintf(f, "The machine was busy while the peak was measured (%s): \"of peak\" reads high\n",
              TT(c->peak_disturbed));
  }
  if (c->gpu[0]) fprintf(f, "GPU: %s\n", TT(c->gpu));
  int procs = 0;
  for (int i = 0; i < w->n_rows; i++)
    procs = w->rows[i].n_proc > procs ? w->rows[i].n_proc : procs;
  if (procs > 1)
    fprintf(f,
            "%d fresh processes per backend, each with its own memory placement; 'procs' is "
            "the spread of their medians (max/min - 1)\n",
            procs);
  else
    fprintf(f, "One process per backend: the IQR is the spread inside that process only; code "
               "and data placement move medians between processes (bench --processes N)\n");
}

/* " (disturbed)" after a disturbed row's rank ("x fastest"), and after its "x floor" under the
 * floor or its "of peak" over 100%, the figures that cannot be right together. */
static void mark_cell(char *cell, size_t len) {
  char b[16];
  snprintf(b, sizeof b, "%s", cell);
  snprintf(cell, len, "%s (disturbed)", strcmp(b, "-") ? b : "");
}

static void mark_disturbed(const report_row *r, char *xf, size_t lf, char *xfl, size_t lfl,
                           char *xsf, size_t lsf, char *pk, size_t lpk) {
  if (!r->disturbed) return;
  mark_cell(xf, lf);
  if (report_row_under_floor(r, r->gemm_floor)) mark_cell(xfl, lfl);
  if (report_row_under_floor(r, r->step_floor)) mark_cell(xsf, lsf);
  if (isfinite(r->peak_fraction) && r->peak_fraction > 1.0) mark_cell(pk, lpk);
}

void table_print(FILE *f, const report_workload *w) {
  double fastest = 0.0, ref = 0.0;
  const char *ref_name = "reference";
  int dev = 0; /* a column for the backends' own clocks, when one has it */
  for (int i = 0; i < w->n_rows; i++)
    dev |= w->rows[i].n_dev > 0;
  for (int i = 0; i < w->n_rows; i++) {
    const report_row *r = &w->rows[i];
    if (!r->ran || !r->gc.pass) continue;
    if (fastest == 0.0) fastest = r->st.median;
    if (r->reference && ref == 0.0) {
      ref = r->st.median;
      ref_name = r->backend;
    }
  }
  fprintf(f,
          "\n| backend | median/epoch | IQR | min | max | n | x fastest | speedup vs %s | "
          "samples/s | GFLOP/s | val acc | gradcheck | step floor | x step floor | GEMM floor | x "
          "floor "
          "| of peak | procs | path | memory |%s\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|%s\n",
          TC(ref_name), dev ? " device/epoch |" : "", dev ? "---|" : "");
  for (int i = 0; i < w->n_rows; i++) {
    const report_row *r = &w->rows[i];
    if (!r->ran) {
      fprintf(f, "| %s | failed: %s | | | | | | | | | | | | | | | | | %s | |%s\n", TC(r->backend),
              TC(r->error), TC(r->path[0] ? r->path : "-"), dev ? " |" : "");
      continue;
    }
    char med[32], iqr[32], mn[32], mx[32], acc[16] = "-", gc[48], xf[32] = "-", xn[16] = "-";
    char fl[32] = "-", xfl[32] = "-", sf[32] = "-", xsf[32] = "-", pr[32] = "1", pk[32] = "-";
    if (isfinite(r->peak_fraction)) snprintf(pk, sizeof pk, "%.0f%%", 100 * r->peak_fraction);
    if (r->n_proc > 1) {
      double lo = r->proc_medians[0], hi = lo;
      for (int k = 1; k < r->n_proc; k++) {
        lo = r->proc_medians[k] < lo ? r->proc_medians[k] : lo;
        hi = r->proc_medians[k] > hi ? r->proc_medians[k] : hi;
      }
      snprintf(pr, sizeof pr, "%d: %.1f%%", r->n_proc, (hi / lo - 1) * 100);
    }
    if (isfinite(r->gemm_floor) && r->gemm_floor > 0) {
      table_fmt_time(fl, sizeof fl, r->gemm_floor);
      snprintf(xfl, sizeof xfl, "%.2f", r->st.median / r->gemm_floor);
    }
    if (isfinite(r->step_floor) && r->step_floor > 0) {
      table_fmt_time(sf, sizeof sf, r->step_floor);
      snprintf(xsf, sizeof xsf, "%.2f", r->st.median / r->step_floor);
    }
    table_fmt_time(med, sizeof med, r->st.median);
    table_fmt_time(iqr, sizeof iqr, r->st.q3 - r->st.q1);
    table_fmt_time(mn, sizeof mn, r->st.min);
    table_fmt_time(mx, sizeof mx, r->st.max);
    if (w->has_accuracy && isfinite(r->val_acc)) snprintf(acc, sizeof acc, "%.4f", r->val_acc);
    snprintf(gc, sizeof gc, "%s (%.1e)", r->gc.pass ? "pass" : "**FAILED, not ranked**",
             r->gc.worst);
    if (r->gc.pass) snprintf(xf, sizeof xf, "%.2f", r->st.median / fastest);
    if (r->gc.pass && ref > 0) snprintf(xn, sizeof xn, "%.2f", ref / r->st.median);
    /* a disturbed row's rank, and a figure that contradicts another, never stand bare */
    mark_disturbed(r, xf, sizeof xf, xfl, sizeof xfl, xsf, sizeof xsf, pk, sizeof pk);
    char dv[40] = "", mem[96];
    table_fmt_memory(mem, sizeof mem, r);
    if (dev) {
      char t[32] = "-";
      if (r->n_dev) table_fmt_time(t, sizeof t, r->device_median);
      snprintf(dv, sizeof dv, " %s |", t);
    }
    fprintf(f,
            "| %s | %s | %s | %s | %s | %d | %s | %s | %.4g | %.2f | %s | %s | %s | %s | %s | %s "
            "| %s | %s | %s | %s |%s\n",
            TC(r->backend), med, iqr, mn, mx, r->n_samples, xf, xn, r->samples_per_s, r->gflops,
            acc, gc, sf, xsf, fl, xfl, pk, pr, TC(r->path[0] ? r->path : "-"), TC(mem), dv);
  }
  table_print_disturbed(f, w);
}

void table_print_disturbed(FILE *f, const report_workload *w) {
  int n = 0;
  for (int i = 0; i < w->n_rows; i++)
    n += w->rows[i].disturbed;
  if (!n) return;
  fprintf(f,
          "\nWarning: %s measured while the machine was busy or with figures that contradict "
          "each other, so %s not what this machine does quiet:",
          n > 1 ? "rows marked (disturbed) were" : "the row marked (disturbed) was",
          n > 1 ? "their times are" : "its times are");
  for (int i = 0, k = 0; i < w->n_rows; i++)
    if (w->rows[i].disturbed)
      fprintf(f, "%s %s: %s", k++ ? ";" : "", TC(w->rows[i].backend),
              TC(w->rows[i].disturbed_reason));
  fprintf(f, ". Run on a quiet machine (stop other jobs), or use fewer threads (--threads).\n");
}
