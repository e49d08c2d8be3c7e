/* png_write.h: 8-bit PNGs written with libpng, and the error handlers every libpng user here
 * shares (a message kept in a box, then a longjmp back to the caller's setjmp). */
#ifndef MLPB_PNG_WRITE_H
#define MLPB_PNG_WRITE_H

#include <png.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
  char msg[200];
} png_errbox;

/* For png_create_*_struct(..., &box, png_errbox_on_error, png_errbox_on_warning). */
void png_errbox_on_error(png_structp png, png_const_charp msg);
void png_errbox_on_warning(png_structp png, png_const_charp msg);

/* channels 1 (gray) or 3 (RGB), 8 bits each, rows packed */
int png_write_8bit(const char *path, const uint8_t *pix, int w, int h, int channels, char *err,
                   size_t len);
int png_write_8bit_to(FILE *f, const char *path, const uint8_t *pix, int w, int h, int channels,
                      char *err, size_t len);

#endif
