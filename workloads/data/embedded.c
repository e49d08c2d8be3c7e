/* embedded.c: links the default data set (10,000 real MNIST digits, gzip IDX) into the
 * binary so mlpbench runs from any directory with no files. MLPB_DIGITS_DIR comes from
 * CMake; the files live in workloads/data/mnist-digits-10k. */
#ifndef MLPB_DIGITS_DIR
#error "MLPB_DIGITS_DIR must name the folder of the embedded digits"
#endif

#define MLPB_STR2(x) #x
#define MLPB_STR(x) MLPB_STR2(x)

/* sym: the bytes; sym_size: their count, computed by the assembler (no pointer arithmetic
 * across two objects in C) */
#define MLPB_INCBIN(sym, file)                                                                     \
  __asm__(".section .rodata\n"                                                                     \
          ".global " #sym "\n"                                                                     \
          ".balign 16\n" #sym ":\n"                                                                \
          ".incbin \"" MLPB_STR(MLPB_DIGITS_DIR) "/" file "\"\n" #sym "_end:\n"                    \
                                                 ".balign 8\n"                                     \
                                                 ".global " #sym "_size\n" #sym "_size:\n"         \
                                                 ".quad " #sym "_end - " #sym "\n"                 \
                                                 ".previous\n")

MLPB_INCBIN(mlpb_digits_images, "train-images-idx3-ubyte.gz");
MLPB_INCBIN(mlpb_digits_labels, "train-labels-idx1-ubyte.gz");
