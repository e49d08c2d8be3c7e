/* test_inputs.c: input formats read as a user expects, and the text rules that keep data
 * out of gnuplot's command language (issue "faults found by a hostile user", classes 1, 2
 * and 5): multi-member gzip and trailing garbage, CSV with a BOM, blank lines and CR line
 * endings, CSV names that leave the image folder, FIFOs and devices where files belong,
 * palette PNGs with transparency, oversized PNGs, swapped IDX magics; gp_quote() round
 * trips through a real gnuplot and runs nothing; safe_name(); outfile refuses non-regular
 * destinations and never follows a planted name. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../harness/sys/plot_text.h"
#include "../harness/sys/proc_spawn.h"
#include "../harness/sys/term_text.h"
#include "../workloads/data/dataset.h"
#include "../workloads/io/outfile.h"
#include "t.h"

static char dir[64];

static void put(const char *name, const void *data, size_t n) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

static size_t gz(const void *in, size_t n, uint8_t *out, size_t cap) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = (Bytef *)in;
  zs.avail_in = (uInt)n;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  deflate(&zs, Z_FINISH);
  size_t used = cap - zs.avail_out;
  deflateEnd(&zs);
  return used;
}

static void test_gzip_members_and_garbage(void) {
  uint8_t plain[4 + 4 + 300], packed[2048];
  plain[0] = plain[1] = 0;
  plain[2] = 8;
  plain[3] = 1;
  plain[4] = plain[5] = plain[6] = 0;
  plain[7] = 44; /* 300 = 0x12c */
  plain[6] = 1;
  for (int i = 0; i < 300; i++)
    plain[8 + i] = (uint8_t)(i % 10);
  /* two members, as `cat a.gz b.gz` makes: the whole file, split at byte 100 */
  size_t a = gz(plain, 100, packed, sizeof packed);
  size_t b = gz(plain + 100, sizeof plain - 100, packed + a, sizeof packed - a);
  uint8_t *out = NULL;
  size_t n = 0;
  char err[512];
  T_CHECK(gz_inflate(packed, a + b, "two.gz", &out, &n, err, sizeof err) == 0, "%s", err);
  T_CHECK(n == sizeof plain && out && memcmp(out, plain, n) == 0, "two members gave %zu bytes", n);
  free(out);
  memcpy(packed + a + b, "JUNK!", 5);
  out = NULL;
  T_CHECK(gz_inflate(packed, a + b + 5, "junk.gz", &out, &n, err, sizeof err) == -1,
          "trailing garbage accepted");
  T_CHECK(strstr(err, "junk.gz: 5 bytes of trailing garbage"), "%s", err);
  free(out);
}

static void write_png(const char *name, int w, int h, int color, int trns) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, 8, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_color pal[2] = {{0, 0, 0}, {180, 180, 180}};
    png_set_PLTE(png, info, pal, 2);
    png_byte alpha[2] = {0, 255};
    if (trns) png_set_tRNS(png, info, alpha, 2, NULL);
  }
  png_write_info(png, info);
  uint8_t *row = calloc((size_t)w * 3, 1);
  for (int x = 0; x < w; x++)
    row[x] = 1;
  for (int y = 0; y < h; y++)
    png_write_row(png, row);
  free(row);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  fclose(f);
}

static void test_png_trns_and_limits(void) {
  char p[512], err[512];
  uint8_t *pix = NULL;
  int w, h;
  write_png("trns.png", 28, 28, PNG_COLOR_TYPE_PALETTE, 1);
  snprintf(p, sizeof p, "%s/trns.png", dir);
  T_CHECK(png_read_gray8(p, &pix, &w, &h, err, sizeof err) == 0, "palette+tRNS: %s", err);
  T_CHECK(pix && w == 28 && abs(pix[0] - 180) <= 1, "palette+tRNS reads %d", pix ? pix[0] : -1);
  free(pix);
  write_png("wide.png", 5000, 2, PNG_COLOR_TYPE_GRAY, 0);
  snprintf(p, sizeof p, "%s/wide.png", dir);
  pix = NULL;
  T_CHECK(png_read_gray8(p, &pix, &w, &h, err, sizeof err) == -1, "5000-wide PNG accepted");
  T_CHECK(strstr(err, "5000x2 image is larger than the 4096x4096 limit"), "%s", err);
  free(pix);
}

static void csv_case(const char *content, size_t n, int want_ok, const char *want, int images) {
  char p[512], err[1024];
  mlpb_dataset d;
  put("c/train.csv", content, n);
  snprintf(p, sizeof p, "%s/c/train.csv", dir);
  err[0] = '\0';
  int rc = dataset_load(p, &d, err, sizeof err);
  T_CHECK((rc == 0) == want_ok, "CSV '%.40s...': rc %d (%s)", content, rc, err);
  if (rc == 0) {
    T_CHECK(d.n_train == images, "%d images, want %d", d.n_train, images);
    dataset_free(&d);
  } else if (want) {
    T_CHECK(strstr(err, want), "'%s' lacks '%s'", err, want);
  }
}

static void test_csv_forms(void) {
  char p[512], err[512];
  mlpb_dataset d;
  memset(&d, 0, sizeof d);
  T_CHECK(synth_generate(3, &d, err, sizeof err) == 0, "%s", err);
  snprintf(p, sizeof p, "%s/c", dir);
  T_CHECK(dataset_export_png(&d, p, NULL, err, sizeof err) == 0, "%s", err);
  dataset_free(&d);
  static const char bom[] = "\xef\xbb\xbf"
                            "filename,label\n00000.png,1\n00001.png,2\n";
  csv_case(bom, sizeof bom - 1, 1, NULL, 2);
  static const char blank[] = "\n\n  \nfilename,label\n00000.png,1\n\n00002.png,3\n";
  csv_case(blank, sizeof blank - 1, 1, NULL, 2);
  static const char cr[] = "filename,label\r00000.png,1\r00001.png,2\r00002.png,3";
  csv_case(cr, sizeof cr - 1, 1, NULL, 3);
  static const char crlf[] = "filename,label\r\n00000.png,1\r\n00001.png,2\r\n";
  csv_case(crlf, sizeof crlf - 1, 1, NULL, 2);
  static const char up[] = "filename,label\n../../../../dev/zero,1\n";
  csv_case(up, sizeof up - 1, 0, "train.csv:2: image name '../../../../dev/zero' leaves", 0);
  static const char abs_[] = "filename,label\n/dev/zero,1\n";
  csv_case(abs_, sizeof abs_ - 1, 0, "leaves the image folder", 0);
  static const char cr_bad[] = "filename,label\r00000.png,1\r00001.png\r";
  csv_case(cr_bad, sizeof cr_bad - 1, 0, "train.csv:3: malformed", 0);
  /* a FIFO and a symlink to a device where an image belongs: refused without reading */
  snprintf(p, sizeof p, "%s/c/images/fifo.png", dir);
  mkfifo(p, 0644);
  static const char fifo[] = "fifo.png,1\n";
  csv_case(fifo, sizeof fifo - 1, 0, "fifo.png: not a regular file", 0);
  snprintf(p, sizeof p, "%s/c/images/zero.png", dir);
  T_CHECK(symlink("/dev/zero", p) == 0, "symlink");
  static const char zero[] = "zero.png,1\n";
  csv_case(zero, sizeof zero - 1, 0, "zero.png: not a regular file", 0);
  /* a file that is not a PNG is refused after its first 8 bytes */
  put("c/images/text.png", "GIF89a..........", 16);
  static const char text[] = "text.png,1\n";
  csv_case(text, sizeof text - 1, 0, "text.png: not a PNG file", 0);
}

static void test_label_magic(void) {
  uint8_t img[4 + 12 + 4], lab[4 + 12 + 4];
  memcpy(img, "\0\0\x08\x03\0\0\0\x01\0\0\0\x02\0\0\0\x02", 16);
  memset(img + 16, 1, 4);
  memcpy(lab, img, sizeof lab); /* an images file where the labels belong */
  char p[512], err[1024];
  snprintf(p, sizeof p, "%s/m", dir);
  mkdir(p, 0777);
  put("m/train-images-idx3-ubyte", img, sizeof img);
  put("m/train-labels-idx1-ubyte", lab, sizeof lab);
  mlpb_dataset d;
  T_CHECK(dataset_load(p, &d, err, sizeof err) == -1, "images as labels accepted");
  T_CHECK(strstr(err, "train-labels-idx1-ubyte: wrong magic 0x00000803 for a labels file"), "%s",
          err);
}

/* Each hostile string goes through gp_quote() into a real gnuplot script that prints it back:
 * what comes out must be the string less its control characters, and nothing may run. */
static void test_gp_quote_runs_nothing(void) {
  if (spawn_run((const char *[]){"gnuplot", "--version", NULL}, NULL, 0) != 0) {
    printf("skipped: gnuplot not installed (test_gp_quote_runs_nothing)\n");
    return;
  }
  char canary[256], script[256], out[256];
  snprintf(canary, sizeof canary, "%s/PWNED", dir);
  snprintf(script, sizeof script, "%s/q.gp", dir);
  snprintf(out, sizeof out, "%s/q.out", dir);
  char hostile[12][300];
  const char *forms[] = {
      "`touch %s`",
      "'`touch %s`'",
      "x' . system('touch %s') . '",
      "x\nsystem \"touch %s\"\n",
      "x\rsystem('touch %s')",
      "$(touch %s); touch %s",
      "@cmd \"`touch %s`\" ; !touch %s",
      "a\\' . system(\"touch %s\") . '\\",
      "\"; system(\"touch %s\"); \"",
      "'' ; !touch %s",
      "x\n!touch %s\n",
      "\\U+0027 . system('touch %s') . \\'",
  };
  for (int i = 0; i < 12; i++) {
    snprintf(hostile[i], sizeof hostile[i], forms[i], canary, canary);
    FILE *f = fopen(script, "w");
    fprintf(f, "set print ");
    gp_quote(f, out);
    fprintf(f, "\nx = ");
    gp_quote(f, hostile[i]);
    fprintf(f, "\nprint x\nset title ");
    gp_quote(f, hostile[i]);
    fprintf(f, "\nset output ");
    gp_quote(f, "/dev/null");
    fprintf(f, "\n");
    fclose(f);
    int rc = spawn_run((const char *[]){"gnuplot", script, NULL}, "gnuplot", 3);
    T_CHECK(rc == 0, "form %d: gnuplot exit %d", i, rc);
    T_CHECK(access(canary, F_OK) != 0, "form %d ran a command", i);
    char want[300], got[400] = "";
    size_t k = 0;
    for (const char *s = hostile[i]; *s; s++)
      if ((unsigned char)*s >= 0x20 && *s != 0x7f) want[k++] = *s;
    want[k] = '\0';
    f = fopen(out, "r");
    if (f && fgets(got, sizeof got, f)) got[strcspn(got, "\n")] = '\0';
    if (f) fclose(f);
    T_CHECK(strcmp(got, want) == 0, "form %d: gnuplot read '%s', want '%s'", i, got, want);
    unlink(canary);
  }
}

static void test_safe_name(void) {
  char out[32];
  const char *cases[][2] = {{"../../z", "_._.._z"}, {"mnist", "mnist"},     {"", "_"},
                            {"a/b", "a_b"},         {".hidden", "_hidden"}, {"x y`", "x_y_"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    safe_name(out, sizeof out, cases[i][0]);
    T_CHECK(strcmp(out, cases[i][1]) == 0, "'%s' -> '%s', want '%s'", cases[i][0], out,
            cases[i][1]);
    T_CHECK(!strchr(out, '/') && out[0] != '.', "'%s' unsafe", out);
  }
}

/* Terminal text: no escape sequence, carriage return or newline survives; invalid UTF-8 is
 * shown as U+FFFD; a cut never splits a character. */
static void test_term_text(void) {
  char b[64];
  const char *hostile = "x\x1b]0;PWNED\x07\x1b[2J\n| fake | row |\r\x7f\xc2\x9b"
                        "2J";
  term_text(b, sizeof b, hostile);
  T_CHECK(strcmp(b, "x?]0;PWNED??[2J?| fake | row |???2J") == 0, "got '%s'", b);
  T_CHECK(strcmp(term_text(b, sizeof b, "caf\xc3\xa9 \xff\xfe ok"),
                 "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd ok") == 0,
          "invalid bytes: '%s'", b);
  /* overlong '/' and a UTF-16 surrogate are invalid too */
  T_CHECK(strcmp(term_text(b, sizeof b, "\xc0\xaf\xed\xa0\x80"),
                 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") == 0,
          "overlong or surrogate kept: '%s'", b);
  /* "aé" in 3 bytes: 'a' and the two bytes of é would need 4 with the terminator */
  T_CHECK(strcmp(term_text(b, 3, "a\xc3\xa9"), "a") == 0, "cut inside a character: '%s'", b);
  T_CHECK(strcmp(utf8_clean(b, 4, "a\xc3\xa9"), "a\xc3\xa9") == 0, "whole fit: '%s'", b);
  T_CHECK(strcmp(utf8_clean(b, sizeof b, "tab\there\xff"), "tab\there\xef\xbf\xbd") == 0,
          "utf8_clean keeps controls, replaces bad bytes: '%s'", b);
  T_CHECK(strcmp(term_text(b, sizeof b, NULL), "") == 0, "NULL");
  T_CHECK(strcmp(term_text(b, sizeof b, "\xe2\x82\xac \xf0\x9f\x98\x80"),
                 "\xe2\x82\xac \xf0\x9f\x98\x80") == 0,
          "valid multibyte changed: '%s'", b);
  /* a table cell: each '|' escaped, controls filtered, cut on a character boundary */
  T_CHECK(strcmp(md_cell(b, sizeof b, "a|b\x1b[2J|"), "a\\|b?[2J\\|") == 0, "cell: '%s'", b);
  T_CHECK(strcmp(md_cell(b, 4, "ab|c"), "ab") == 0, "an escape cut in half: '%s'", b);
  T_CHECK(strcmp(md_cell(b, 4, "a\xc3\xa9x"), "a\xc3\xa9") == 0, "whole character: '%s'", b);
  T_CHECK(strcmp(md_cell(b, 3, "a\xc3\xa9"), "a") == 0, "cut inside a character: '%s'", b);
}

static void test_outfile_destinations(void) {
  char p[512], victim[512], err[1024];
  outfile o;
  snprintf(victim, sizeof victim, "%s/victim", dir);
  put("victim", "keep", 4);
  snprintf(p, sizeof p, "%s/link", dir);
  symlink(victim, p);
  T_CHECK(outfile_check(p, err, sizeof err) == -1 && strstr(err, "symbolic link"), "%s", err);
  snprintf(p, sizeof p, "%s/fifo", dir);
  mkfifo(p, 0644);
  T_CHECK(outfile_check(p, err, sizeof err) == -1 && strstr(err, "a FIFO"), "%s", err);
  T_CHECK(outfile_check(dir, err, sizeof err) == -1 && strstr(err, "a folder"), "%s", err);
  T_CHECK(outfile_check("", err, sizeof err) == -1, "empty path accepted");
  /* a link planted at the destination after the check is refused at commit, not followed */
  snprintf(p, sizeof p, "%s/late", dir);
  T_CHECK(outfile_open(&o, p, err, sizeof err) == 0, "%s", err);
  fputs("new", o.f);
  symlink(victim, p);
  T_CHECK(outfile_commit(&o, err, sizeof err) == -1 && strstr(err, "refusing"), "%s", err);
  T_CHECK(access(o.tmp, F_OK) != 0, "temp file left behind");
  FILE *f = fopen(victim, "r");
  char buf[16] = "";
  if (f) {
    T_CHECK(fgets(buf, sizeof buf, f) && strcmp(buf, "keep") == 0, "victim now '%s'", buf);
    fclose(f);
  }
  /* a regular file is replaced whole */
  snprintf(p, sizeof p, "%s/regular", dir);
  put("regular", "old", 3);
  T_CHECK(outfile_open(&o, p, err, sizeof err) == 0, "%s", err);
  fputs("new", o.f);
  T_CHECK(outfile_commit(&o, err, sizeof err) == 0, "%s", err);
  f = fopen(p, "r");
  buf[0] = '\0';
  if (f) {
    T_CHECK(fgets(buf, sizeof buf, f) && strcmp(buf, "new") == 0, "regular now '%s'", buf);
    fclose(f);
  }
}

/* ---- issue 18 section 7: same-file outputs, and the true reason for a failed write ---- */

/* Every spelling of one file is the same file; two names are not. */
static void test_outfile_same(void) {
  char a[256], b[256], c[256];
  snprintf(a, sizeof a, "%s/same/x.json", dir);
  snprintf(b, sizeof b, "%s/same/./sub/../x.json", dir);
  snprintf(c, sizeof c, "%s/same/y.json", dir);
  char sub[256];
  snprintf(sub, sizeof sub, "%s/same/sub", dir);
  T_CHECK(outfile_check_dir(sub, c, sizeof c) == 0, "%s", c);
  snprintf(c, sizeof c, "%s/same/y.json", dir);
  T_CHECK(outfile_same(a, b), "%s and %s (neither exists)", a, b);
  T_CHECK(!outfile_same(a, c), "%s and %s", a, c);
  put("same/x.json", "{}", 2);
  T_CHECK(outfile_same(a, b), "%s and %s (it exists)", a, b);
  T_CHECK(link(a, c) == 0 && outfile_same(a, c), "a hard link is the same file");
}

/* A full disk says so: /dev/full fails every write with ENOSPC, which stdio's buffer used to
 * turn into "Input/output error". */
static void test_outfile_full_disk(void) {
  char err[1024];
  outfile o;
  memset(&o, 0, sizeof o);
  int full = open("/dev/full", O_WRONLY);
  if (full < 0) {
    printf("skipped: no /dev/full\n");
    return;
  }
  snprintf(o.path, sizeof o.path, "%s/full.json", dir);
  snprintf(o.tmp, sizeof o.tmp, "%s/.full.json.XXXXXX", dir);
  int fd = mkstemp(o.tmp);
  T_CHECK(fd >= 0 && close(fd) == 0, "mkstemp");
  T_CHECK(outfile_attach(&o, full) == 0, "attach");
  for (int i = 0; i < 20000; i++)
    fputs("0123456789", o.f);
  T_CHECK(outfile_commit(&o, err, sizeof err) == -1 && strstr(err, "No space left on device"), "%s",
          err);
  T_CHECK(access(o.tmp, F_OK) != 0 && access(o.path, F_OK) != 0, "a file was left");
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mlpb-test-inputs-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  T_RUN(test_gzip_members_and_garbage);
  T_RUN(test_png_trns_and_limits);
  T_RUN(test_csv_forms);
  T_RUN(test_label_magic);
  T_RUN(test_gp_quote_runs_nothing);
  T_RUN(test_safe_name);
  T_RUN(test_outfile_destinations);
  T_RUN(test_term_text);
  T_RUN(test_outfile_same);
  T_RUN(test_outfile_full_disk);
  rmtree(dir);
  T_EXIT();
}
