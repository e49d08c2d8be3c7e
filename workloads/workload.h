/* workload.h: a training job as a model spec plus float data, and everything the harness needs
 * to know about it. The harness asks these fields; it never asks which workload it holds.
 *   toy:   4-3-1 sigmoid net on its 3x4 input, full-batch gradient step, lr 0.1, 5000 epochs
 *   mnist: 784-500-10 ReLU, softmax cross-entropy, Adam lr 1e-3, batch 128, 5 epochs,
 *          first 70% of the training file trains, last 30% validates
 *   wide:  mnist with a 2048-wide hidden layer: the same data, products 4x larger, where the
 *          GEMMs and not the elementwise passes set the pace (only when named) */
#ifndef MLPB_WORKLOAD_H
#define MLPB_WORKLOAD_H

#include <stdint.h>

#include "../impls/mlp_backend.h"
#include "data/dataset.h"

typedef enum { WL_SAMPLE_SHUFFLE = 0, WL_SAMPLE_TUTORIAL = 1 } wl_sampling;

/* How an epoch's indices are drawn (harness/trainer.c's batch_order follows it). */
typedef enum {
  WL_ORDER_FULL = 0,    /* one step on the whole training set, in order */
  WL_ORDER_SHUFFLE = 1, /* one shuffled pass; the last batch may be short */
  WL_ORDER_DRAW = 2,    /* batches_per_epoch batches drawn with replacement */
} wl_order;

/* Overrides from the command line; 0 keeps the workload's default, and so does an lr whose
 * lr_set is 0 (an explicit state: no value of lr means "unset"). */
typedef struct {
  int epochs, batch, hidden, limit;
  float lr;
  int lr_set;
  wl_sampling sampling;
  int no_zero_grad;
} wl_config;

typedef struct {
  const char *name;
  mlp_spec spec;
  int epochs, batch;
  wl_order order;
  const char *sampling_label; /* "full batch", "shuffled epochs", "tutorial sampling" */
  int zero_grad;
  int batches_per_epoch; /* steps in one epoch */
  /* what the harness reports and draws */
  int has_accuracy;    /* labels: accuracy is measured (else regression targets) */
  int default_repeat;  /* independent runs per backend when --repeat is not given */
  int default_block;   /* epochs per timing sample when --block is not given; 0: one epoch,
                          and --block does not apply */
  int montage_side;    /* square images this size can be drawn as a montage; 0: none */
  char data_label[64]; /* the data set's name in results ("toy", "fashion-mnist") */
  char data_title[64]; /* what the model trains on, for titles ("its 3x4 input") */
  char data_source[512];
  uint64_t data_hash;
  double samples_per_epoch, gflop_per_epoch; /* GEMM FLOPs only */
  /* the data */
  int n_train, n_val, n_test;
  float *x_train, *x_val, *x_test; /* (n, n_in), pixels in [0, 1] */
  int32_t *y_train, *y_val, *y_test;
  float *t_train; /* regression targets (n_train, n_out), when !has_accuracy */
  /* initial weights: numpy's U[0,1) everywhere, or nn.Linear's U(+-1/sqrt(fan_in)) */
  int init_unit;
} workload;

/* The settings of wl_config (and the timing block) a workload honours, as option bits: the
 * command line refuses an option that a workload it names does not take. */
enum {
  WL_TAKES_EPOCHS = 1 << 0,
  WL_TAKES_BATCH = 1 << 1,
  WL_TAKES_HIDDEN = 1 << 2,
  WL_TAKES_LIMIT = 1 << 3,
  WL_TAKES_LR = 1 << 4,
  WL_TAKES_SAMPLING = 1 << 5,
  WL_TAKES_ZERO_GRAD = 1 << 6,
  WL_TAKES_DATA = 1 << 7,
  WL_TAKES_BLOCK = 1 << 8,
};

/* One registry entry: how to build a workload, whether it needs --data, its defaults (the
 * one place each is written: the builder, --help and list read them here), and the options
 * it takes when named and when it runs as part of --workload all. */
typedef struct {
  const char *name;
  const char *summary;
  int needs_data;            /* 1: built from a loaded data set */
  int in_all;                /* 1: part of --workload all */
  const wl_config *defaults; /* epochs, batch (0: the whole training set), hidden, lr */
  unsigned takes;            /* WL_TAKES_* honoured when the workload is named */
  unsigned takes_in_all;     /* ... when it runs because of --workload all */
  int (*build)(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len);
} wl_entry;

int workload_count(void);
const wl_entry *workload_get(int i);
const wl_entry *workload_find(const char *name);

extern const wl_config wl_toy_defaults, wl_mnist_defaults, wl_wide_defaults;

int workload_toy(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len);
int workload_mnist(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len);
int workload_wide(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len);
void workload_free(workload *w);

/* The seeded initial weights every backend starts from (flat layout). */
void workload_init_params(const workload *w, uint64_t seed, float *flat);

/* GEMM FLOPs of one training step on B samples: 4*n_in*H + 6*H*n_out per sample. */
double workload_step_flops(const mlp_spec *s, int B);

/* Indices in one epoch (for the batch order), and a batch of them: xb (n, n_in) and either
 * labels yb (n) or targets tb (n, n_out), whichever the workload trains on. */
int workload_epoch_len(const workload *w);
void workload_gather(const workload *w, const int32_t *idx, int n, float *xb, int32_t *yb,
                     float *tb, mlp_batch *b);

#endif
