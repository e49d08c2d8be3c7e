/* toy.c: the tutorial's numpy network, exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static const float toy_x[3][4] = {{1, 0, 1, 0}, {1, 0, 1, 1}, {0, 1, 0, 1}};
static const float toy_y[3] = {1, 1, 0};

/* the tutorial's: 5000 full-batch epochs of SGD at 0.1 on a 3-wide hidden layer */
const wl_config wl_toy_defaults = {.epochs = 5000, .batch = 0, .hidden = 3, .lr = 0.1f};

int workload_toy(workload *w, const mlpb_dataset *d, const wl_config *cfg, char *err, size_t len) {
  (void)d;
  memset(w, 0, sizeof *w);
  w->name = "toy";
  w->spec = (mlp_spec){.n_in = 4,
                       .n_hidden = cfg->hidden > 0 ? cfg->hidden : wl_toy_defaults.hidden,
                       .n_out = 1,
                       .act = MLP_ACT_SIGMOID,
                       .loss = MLP_LOSS_SIGMOID_SE,
                       .opt = MLP_OPT_SGD,
                       .lr = cfg->lr_set ? cfg->lr : wl_toy_defaults.lr,
                       .max_batch = 3};
  w->epochs = cfg->epochs > 0 ? cfg->epochs : wl_toy_defaults.epochs;
  w->batch = 3;
  w->order = WL_ORDER_FULL;
  w->sampling_label = "full batch";
  w->zero_grad = 1;
  w->batches_per_epoch = 1;
  w->n_train = 3;
  w->init_unit = 1; /* numpy.random.uniform: [0, 1) for weights and biases */
  /* an epoch lasts a fraction of a microsecond: time blocks of a tenth of the run, at most
   * 500 epochs (about 0.15 ms against a 1 ns clock), and repeat the run 5 times */
  w->default_block = w->epochs / 10 < 1 ? 1 : w->epochs / 10 > 500 ? 500 : w->epochs / 10;
  w->default_repeat = 5;
  snprintf(w->data_label, sizeof w->data_label, "toy");
  snprintf(w->data_title, sizeof w->data_title, "its 3x4 input");
  snprintf(w->data_source, sizeof w->data_source, "the tutorial's 3x4 input");
  w->samples_per_epoch = w->n_train;
  w->gflop_per_epoch = workload_step_flops(&w->spec, w->n_train) / 1e9;
  w->x_train = malloc(sizeof toy_x);
  w->t_train = malloc(sizeof toy_y);
  if (!w->x_train || !w->t_train) {
    snprintf(err, len, "toy: out of memory");
    workload_free(w);
    return MLPB_ERR_NOMEM;
  }
  memcpy(w->x_train, toy_x, sizeof toy_x);
  memcpy(w->t_train, toy_y, sizeof toy_y);
  return 0;
}
