/* mlpbench train: a workload on one or more backends, per-epoch loss and accuracy, then a
 * summary table. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "trainer.h"

static const char *train_allowed = "bwdneBHlSZstFTKq";

typedef struct {
  const char *name;
  double loss, train_acc, val_acc, test_acc, seconds;
  int ok;
} train_summary;

static void print_acc(const char *label, double acc) {
  if (acc >= 0) printf("  %s %.4f", label, acc);
}

static int evaluate(trainer *t, const workload *w, train_summary *s) {
  return trainer_accuracy(t, w->x_train, w->y_train, w->n_train, &s->train_acc) ||
         trainer_accuracy(t, w->x_val, w->y_val, w->n_val, &s->val_acc) ||
         trainer_accuracy(t, w->x_test, w->y_test, w->n_test, &s->test_acc);
}

static int train_toy(trainer *t, const workload *w, train_summary *s) {
  int report = w->epochs >= 5 ? w->epochs / 5 : 1;
  for (int e = 0; e < w->epochs; e += report) {
    int k = w->epochs - e < report ? w->epochs - e : report;
    double sec;
    if (trainer_epochs(t, k, &sec, &s->loss)) return -1;
    s->seconds += sec;
    printf("  %-6s epoch %5d  loss %.6f\n", t->be->name, e + k, s->loss);
  }
  float out[3];
  if (trainer_predict(t, w->x_train, w->n_train, out)) return -1;
  printf("  actual:    [%.0f, %.0f, %.0f]\n  predicted: [%.4f, %.4f, %.4f]\n", w->t_train[0],
         w->t_train[1], w->t_train[2], out[0], out[1], out[2]);
  s->train_acc = s->val_acc = s->test_acc = -1;
  return 0;
}

static int train_mnist(trainer *t, const workload *w, train_summary *s) {
  for (int e = 0; e < w->epochs; e++) {
    double sec;
    if (trainer_epochs(t, 1, &sec, &s->loss) || evaluate(t, w, s)) return -1;
    s->seconds += sec;
    printf("  %-6s epoch %d  loss %.4f", t->be->name, e + 1, s->loss);
    print_acc("train", s->train_acc);
    print_acc("val", s->val_acc);
    print_acc("test", s->test_acc);
    printf("  (%.2f s)\n", sec);
    fflush(stdout);
  }
  return 0;
}

static int train_workload(const cli_opts *o, wl_kind kind, const void **bes, int nb) {
  mlpb_dataset d;
  workload w;
  train_summary sum[CLI_MAX_BACKENDS] = {{0}};
  int rc = cli_setup_workload(o, kind, &d, &w);
  if (rc) return rc;
  printf("\n## train: %s %d-%d-%d", w.name, w.spec.n_in, w.spec.n_hidden, w.spec.n_out);
  if (kind == WL_MNIST)
    printf(" on %s: %d train / %d val / %d test, batch %d, %d steps/epoch (%s%s)", d.name,
           w.n_train, w.n_val, w.n_test, w.batch, w.batches_per_epoch,
           w.sampling == WL_SAMPLE_TUTORIAL ? "tutorial sampling" : "shuffled epochs",
           w.zero_grad ? "" : ", no zero_grad");
  printf(", %d epochs, seed %llu\n\n", w.epochs, (unsigned long long)o->seed);
  mlp_options bo = cli_backend_options(o);
  for (int i = 0; i < nb; i++) {
    trainer t;
    sum[i].name = ((const mlp_backend *)bes[i])->name;
    if (trainer_open(&t, bes[i], &bo, &w, o->seed)) {
      fprintf(stderr, "mlpbench train: %s\n", t.err);
      rc = EXIT_RUNTIME;
      continue;
    }
    t.progress = !o->quiet;
    int bad = kind == WL_TOY ? train_toy(&t, &w, &sum[i]) : train_mnist(&t, &w, &sum[i]);
    if (bad) {
      fprintf(stderr, "mlpbench train: %s\n", t.err);
      rc = EXIT_RUNTIME;
    }
    sum[i].ok = !bad;
    trainer_close(&t);
  }
  printf("\n| backend | final loss | train acc | val acc | test acc | train time (s) |\n");
  printf("|---|---|---|---|---|---|\n");
  for (int i = 0; i < nb; i++) {
    if (!sum[i].ok) {
      printf("| %s | failed | | | | |\n", sum[i].name);
      continue;
    }
    printf("| %s | %.6f |", sum[i].name, sum[i].loss);
    double a[3] = {sum[i].train_acc, sum[i].val_acc, sum[i].test_acc};
    for (int k = 0; k < 3; k++)
      a[k] >= 0 ? printf(" %.4f |", a[k]) : printf(" - |");
    printf(" %.3f |\n", sum[i].seconds);
  }
  workload_free(&w);
  dataset_free(&d);
  return rc;
}

int cmd_train(int argc, char **argv) {
  cli_opts o;
  int rc = cli_parse(argc, argv, "train", train_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("train", train_allowed,
                     "Trains a workload (default: mnist) on each backend from identical weights "
                     "and batches.");
    return rc < 0 ? EXIT_OK : rc;
  }
  if (!o.workload) o.workload = "mnist";
  cli_apply_blas_kernel(&o);
  const void *bes[CLI_MAX_BACKENDS];
  int worst, nb = cli_select_backends(&o, bes, &worst);
  if (worst == EXIT_USAGE) return worst;
  wl_kind kinds[2];
  int nk = cli_workloads(&o, kinds);
  for (int k = 0; k < nk; k++) {
    int r = train_workload(&o, kinds[k], bes, nb);
    if (r == EXIT_USAGE) return r;
    worst = r > worst ? r : worst;
  }
  return worst;
}
