/* png_fuzz.h: for the PNG fuzz target alone, kept out of the loader's header (dataset.h) so
 * no user of the loader can turn a file's checks off. */
#ifndef MLPB_PNG_FUZZ_H
#define MLPB_PNG_FUZZ_H

/* Accept chunks with bad CRCs, so mutated files reach libpng's decoder. */
void png_fuzzing_mode(int on);

#endif
