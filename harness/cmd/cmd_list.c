/* mlpbench list: every backend, available or not and why. */
#include <stdio.h>
#include <string.h>

#include "../backends/be_handle.h"
#include "../backends/registry.h"
#include "../output/report.h"
#include "../sys/term_text.h"
#include "cli.h"

int cmd_list(int argc, char **argv) {
  cli_opts o;
  int rc = cli_parse(argc, argv, "list", "", &o);
  if (rc) {
    if (rc < 0) cli_print_help("list", "", "Lists the backends and whether each can run here.");
    return rc < 0 ? EXIT_OK : rc;
  }
  if ((rc = opt_prepare(&o))) return rc; /* the plugins, after parsing */
  char cpu[128];
  report_cpu_model(cpu, sizeof cpu);
  printf("CPU: %s\n", TERM_TEXT(cpu)); /* the host's words, and the libraries' */
  for (int i = 0; i < registry_count(); i++) {
    const mlp_backend *be = registry_get(i);
    char why[512] = "", desc[512] = "";
    int ok = be_available(be, why, sizeof why);
    if (ok) { /* a library's or a driver's words: made safe before our newlines */
      char raw[sizeof desc] = "";
      be_describe(be, NULL, raw, sizeof raw);
      term_text(desc, sizeof desc, raw);
    }
    if (ok && be_offers(be, BE_PATH)) { /* a context knows its path; the default spec's says */
      char err[256], path[64];
      const wl_config *c = &wl_mnist_defaults; /* the classifier's defaults, as it runs */
      mlp_spec spec = {.n_in = 784,
                       .n_hidden = c->hidden,
                       .n_out = 10,
                       .act = MLP_ACT_RELU,
                       .loss = MLP_LOSS_SOFTMAX_CE,
                       .opt = MLP_OPT_ADAM,
                       .lr = c->lr,
                       .beta1 = 0.9f,
                       .beta2 = 0.999f,
                       .eps = 1e-8f,
                       .max_batch = c->batch};
      mlp_options opt = {.ftz = 1};
      be_handle h;
      if (be_open(&h, be, &spec, &opt, err, sizeof err) == 0) {
        be_path(&h, path, sizeof path);
        be_close(&h);
        size_t n = strlen(desc);
        snprintf(desc + n, sizeof desc - n, "%spath (784-%d-10, batch %d): %s",
                 n ? "\n         " : "", spec.n_hidden, spec.max_batch, TERM_TEXT(path));
      }
    }
    const mlp_props *pr = be_props(be);
    if (ok && pr->paths) { /* --path chooses among these */
      size_t n = strlen(desc);
      snprintf(desc + n, sizeof desc - n, "%spaths (--path, default first): %s",
               n ? "\n         " : "", pr->paths);
    }
    if (ok && pr->emulated) {
      size_t n = strlen(desc);
      snprintf(desc + n, sizeof desc - n,
               "%semulated: runs on the CPU to prove the kernels; bench never times it",
               n ? "\n         " : "");
    }
    if (ok)
      printf("%-8s available    %s%s%s\n", be->name, be->summary, desc[0] ? "\n         " : "",
             desc);
    else
      printf("%-8s unavailable  %s\n", be->name, TERM_TEXT(why));
  }
  registry_print_advice(stdout, "\nwarning: ");
  return EXIT_OK;
}
