/* mlpbench train: a workload on one or more backends, per-epoch loss and accuracy, then a
 * summary table. */
#include <stdio.h>
#include <stdlib.h>

#include <math.h>

#include "../backends/registry.h"
#include "../run/session.h"
#include "../run/trainer.h"
#include "../sys/term_text.h"
#include "cli.h"

static const char *train_allowed = "bwdneBHlSZstFTCKq";

typedef struct {
  const char *name;
  double loss, train_acc, val_acc, test_acc, seconds;
  int ok;
} train_summary;

static void print_acc(const char *label, double acc) {
  if (isfinite(acc)) printf("  %s %.4f", label, acc);
}

static int evaluate(trainer *t, const workload *w, train_summary *s) {
  return trainer_accuracy(t, w->x_train, w->y_train, w->n_train, &s->train_acc) ||
         trainer_accuracy(t, w->x_val, w->y_val, w->n_val, &s->val_acc) ||
         trainer_accuracy(t, w->x_test, w->y_test, w->n_test, &s->test_acc);
}

/* Regression targets: the loss every fifth of the run, then actual against predicted. */
static int train_targets(trainer *t, const workload *w, train_summary *s) {
  int report = w->epochs >= 5 ? w->epochs / 5 : 1;
  for (int e = 0; e < w->epochs; e += report) {
    int k = w->epochs - e < report ? w->epochs - e : report;
    double sec;
    if (trainer_epochs(t, k, &sec, &s->loss)) return -1;
    s->seconds += sec;
    printf("  %-6s epoch %5d  loss %.6f\n", t->h.be->name, e + k, s->loss);
  }
  enum { SHOW = 8 };
  const int n = w->n_train < SHOW ? w->n_train : SHOW, no = w->spec.n_out;
  float out[SHOW * 16];
  s->train_acc = s->val_acc = s->test_acc = NAN;
  if (no > 16) return 0;
  if (trainer_predict(t, w->x_train, n, out)) return -1;
  printf("  actual:    [");
  for (int i = 0; i < n * no; i++)
    printf("%s%.0f", i ? ", " : "", w->t_train[i]);
  printf("]\n  predicted: [");
  for (int i = 0; i < n * no; i++)
    printf("%s%.4f", i ? ", " : "", out[i]);
  printf("]\n");
  return 0;
}

/* Class labels: loss and accuracies every epoch. */
static int train_labels(trainer *t, const workload *w, train_summary *s) {
  for (int e = 0; e < w->epochs; e++) {
    double sec;
    if (trainer_epochs(t, 1, &sec, &s->loss) || evaluate(t, w, s)) return -1;
    s->seconds += sec;
    printf("  %-6s epoch %d  loss %.4f", t->h.be->name, e + 1, s->loss);
    print_acc("train", s->train_acc);
    print_acc("val", s->val_acc);
    print_acc("test", s->test_acc);
    if (be_props(t->h.be)->emulated) /* an emulator's seconds say nothing of the device */
      printf("  (emulated: time not shown)\n");
    else
      printf("  (%.2f s)\n", sec);
    fflush(stdout);
  }
  return 0;
}

static int train_workload(const run_plan *p, const wl_entry *e) {
  wl_session ss;
  train_summary *sum = calloc((size_t)p->n_backends, sizeof *sum);
  if (!sum) {
    fprintf(stderr, "mlpbench train: out of memory\n");
    return EXIT_RUNTIME;
  }
  int rc = session_open(&ss, e, p, 0, "train");
  if (rc) {
    free(sum);
    return rc;
  }
  const workload *w = &ss.w;
  printf("\n## train: %s %d-%d-%d on %s", w->name, w->spec.n_in, w->spec.n_hidden, w->spec.n_out,
         TERM_TEXT(w->data_title));
  if (w->has_accuracy)
    printf(": %d train / %d val / %d test, batch %d, %d steps/epoch (%s%s)", w->n_train, w->n_val,
           w->n_test, w->batch, w->batches_per_epoch, w->sampling_label,
           w->zero_grad ? "" : ", no zero_grad");
  printf(", %d epochs, seed %llu\n\n", w->epochs, (unsigned long long)p->seed);
  for (int i = 0; i < p->n_backends; i++) {
    trainer t;
    sum[i].name = p->backends[i]->name;
    if (trainer_open(&t, p->backends[i], &p->opts, w, p->seed)) {
      fprintf(stderr, "mlpbench train: %s\n", TERM_TEXT(t.err));
      rc = EXIT_RUNTIME;
      continue;
    }
    t.progress = !p->quiet;
    int bad = w->has_accuracy ? train_labels(&t, w, &sum[i]) : train_targets(&t, w, &sum[i]);
    if (bad) {
      fprintf(stderr, "mlpbench train: %s\n", TERM_TEXT(t.err));
      rc = EXIT_RUNTIME;
    }
    sum[i].ok = !bad;
    trainer_close(&t);
  }
  printf("\n| backend | final loss | train acc | val acc | test acc | train time (s) |\n");
  printf("|---|---|---|---|---|---|\n");
  for (int i = 0; i < p->n_backends; i++) {
    if (!sum[i].ok) {
      printf("| %s | failed | | | | |\n", sum[i].name);
      continue;
    }
    printf("| %s | %.6f |", sum[i].name, sum[i].loss);
    double a[3] = {sum[i].train_acc, sum[i].val_acc, sum[i].test_acc};
    for (int k = 0; k < 3; k++)
      isfinite(a[k]) ? printf(" %.4f |", a[k]) : printf(" - |");
    if (be_props(p->backends[i])->emulated)
      printf(" emulated, not timed |\n");
    else
      printf(" %.3f |\n", sum[i].seconds);
  }
  session_close(&ss);
  free(sum);
  return rc;
}

int cmd_train(int argc, char **argv) {
  cli_opts o;
  run_plan p;
  int worst, rc = cli_parse(argc, argv, "train", train_allowed, &o);
  if (rc) {
    if (rc < 0)
      cli_print_help("train", train_allowed,
                     "Trains a workload (default: mnist) on each backend from identical weights "
                     "and batches.");
    return rc < 0 ? EXIT_OK : rc;
  }
  if ((rc = cli_apply_tuning(&o))) return rc;
  char kernel_err[512];
  if (registry_kernel_unmet(o.blas_kernel, kernel_err, sizeof kernel_err)) {
    fprintf(stderr, "mlpbench train: %s\n", TERM_TEXT(kernel_err));
    return EXIT_USAGE;
  }
  if ((rc = cli_plan(&o, "mnist", &p, &worst))) return rc;
  for (int k = 0; k < p.n_workloads; k++) {
    int r = train_workload(&p, p.workloads[k]);
    if (r == EXIT_USAGE) return r;
    worst = r > worst ? r : worst;
  }
  return worst;
}
