#define _GNU_SOURCE
#include "plot_job.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../workloads/io/outfile.h"
#include "../sys/interrupt.h"
#include "../sys/plot_text.h"
#include "../sys/proc_spawn.h"
#include "../sys/term_text.h"

/* A finished PNG: signature first, IEND chunk last. */
static int png_complete(const char *path) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  unsigned char head[8], tail[8];
  FILE *f = fopen(path, "rb");
  int ok = f && fread(head, 1, 8, f) == 8 && memcmp(head, sig, 8) == 0 &&
           fseek(f, -8, SEEK_END) == 0 && fread(tail, 1, 8, f) == 8 && memcmp(tail, "IEND", 4) == 0;
  if (f) fclose(f);
  return ok;
}

static int copy_into(const char *from, const char *to, char *err, size_t len) {
  outfile o;
  char buf[65536];
  size_t n;
  FILE *in = fopen(from, "rb");
  if (!in) {
    snprintf(err, len, "%s: cannot read: %s", from, strerror(errno));
    return -1;
  }
  if (outfile_open(&o, to, err, len)) {
    fclose(in);
    return -1;
  }
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, o.f) != n) break;
  int bad = ferror(in);
  fclose(in);
  if (bad) {
    outfile_abort(&o);
    snprintf(err, len, "%s: cannot read: %s", from, strerror(errno));
    return -1;
  }
  return outfile_commit(&o, err, len);
}

/* TMP/NAME.EXT into out, or -1 with why: never cut */
static int tmp_file(const plot_job *j, const char *name, const char *ext, char *out, size_t len,
                    char *err, size_t elen) {
  char file[256];
  int n = snprintf(file, sizeof file, "%s%s", name, ext);
  if (n < 0 || (size_t)n >= sizeof file) {
    snprintf(err, elen, "plot name too long: %.64s...", name);
    return -1;
  }
  return path_join(out, len, j->tmp, file, err, elen);
}

/* Opens TMP/NAME.gp and TMP/NAME.dat and starts the script: terminal and (temp) output. */
int job_begin(plot_job *j, const char *name, int w, int h, FILE **gp, FILE **dat, char *dat_path,
              size_t dlen) {
  char path[PATH_MAX], png[PATH_MAX], err[256];
  *gp = *dat = NULL;
  if (tmp_file(j, name, ".gp", path, sizeof path, err, sizeof err) ||
      tmp_file(j, name, ".png", png, sizeof png, err, sizeof err) ||
      tmp_file(j, name, ".dat", dat_path, dlen, err, sizeof err)) {
    fprintf(stderr, "mlpbench: %s\n", TERM_TEXT(err));
    j->failed = 1;
    return -1;
  }
  *gp = fopen(path, "w");
  *dat = fopen(dat_path, "w");
  if (!*gp || !*dat) {
    if (*gp) fclose(*gp);
    if (*dat) fclose(*dat);
    fprintf(stderr, "mlpbench: %s: cannot write a plot script: %s\n", j->tmp, strerror(errno));
    j->failed = 1;
    return -1;
  }
  fprintf(*gp, "set terminal pngcairo noenhanced size %d,%d font 'sans,10'\nset output ", w, h);
  gp_quote(*gp, png);
  fprintf(*gp, "\n");
  return 0;
}

/* Closes the files, runs gnuplot on TMP/NAME.gp, checks the PNG and puts it in place. */
void job_end(plot_job *j, const char *name, FILE *gp, FILE *dat, const char *what) {
  char script[PATH_MAX], png[PATH_MAX], dest[PATH_MAX], err[PATH_MAX + 200];
  int bad = fclose(dat) != 0;
  bad |= fclose(gp) != 0;
  /* job_begin made both names from the same parts: they fit */
  bad |= tmp_file(j, name, ".gp", script, sizeof script, err, sizeof err) ||
         tmp_file(j, name, ".png", png, sizeof png, err, sizeof err);
  if (bad) {
    fprintf(stderr, "mlpbench: %s: cannot write a plot script\n", j->tmp);
    j->failed = 1;
    return;
  }
  const char *argv[] = {"gnuplot", script, NULL};
  if (mlpb_stop_signal) { /* asked to stop: draw nothing more */
    j->failed = 1;
    return;
  }
  /* a gnuplot that hangs (a full disk under its cairo, a broken font cache) is stopped */
  spawn_job sj = {.argv = argv, .tag = "gnuplot", .show = 5, .timeout_s = 120};
  int rc = spawn_job_run(&sj);
  if (rc != 0 || !png_complete(png)) {
    fprintf(stderr, "mlpbench: gnuplot failed drawing %s (exit %d)\n", TERM_TEXT(what), rc);
    j->failed = 1;
    return;
  }
  if (snprintf(dest, sizeof dest, "%s/%s.png", j->dir, name) >= (int)sizeof dest ||
      copy_into(png, dest, err, sizeof err)) {
    fprintf(stderr, "mlpbench: %s\n", dest[0] ? TERM_TEXT(err) : "plot path too long");
    j->failed = 1;
  }
}
