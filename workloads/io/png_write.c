/* png_write.c: 8-bit PNGs through libpng, written as every output is (outfile.h). */
#include "png_write.h"

#include <stdio.h>
#include <string.h>

#include "outfile.h"

void png_errbox_on_error(png_structp png, png_const_charp msg) {
  png_errbox *box = png_get_error_ptr(png);
  snprintf(box->msg, sizeof box->msg, "%s", msg);
  png_longjmp(png, 1);
}

void png_errbox_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* warnings (e.g. bad sRGB chunks) do not make an image unusable */
}

int png_write_8bit(const char *path, const uint8_t *pix, int w, int h, int channels, char *err,
                   size_t len) {
  outfile o;
  if (outfile_open(&o, path, err, len)) return -1;
  if (png_write_8bit_to(o.f, path, pix, w, h, channels, err, len)) {
    /* libpng says only "Write Error" when stdio fails: the stream kept the real errno */
    if (ferror(o.f)) snprintf(err, len, "%s: cannot write: %s", path, strerror(outfile_errno(&o)));
    outfile_abort(&o);
    return -1;
  }
  return outfile_commit(&o, err, len);
}

int png_write_8bit_to(FILE *f, const char *path, const uint8_t *pix, int w, int h, int channels,
                      char *err, size_t len) {
  png_errbox box = {{0}};
  png_structp png = NULL;
  png_infop info = NULL;
  png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &box, png_errbox_on_error,
                                png_errbox_on_warning);
  info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    snprintf(err, len, "%s: out of memory starting libpng", path);
    goto fail;
  }
  if (setjmp(png_jmpbuf(png))) {
    snprintf(err, len, "%s: cannot write PNG (%s)", path, box.msg);
    goto fail;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++)
    png_write_row(png, (png_const_bytep)(pix + (size_t)y * w * channels));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
fail:
  if (png) png_destroy_write_struct(&png, info ? &info : NULL);
  return -1;
}
