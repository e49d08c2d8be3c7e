#define _GNU_SOURCE
#include "plugins.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../impls/mlp_plugin.h"
#include "../sys/term_text.h"
#include "names.h"
#include "peer_names.h"
#include "registry.h"

/* One loaded plugin: its library, its own table, and the wrapped copy the registry holds. The
 * slots without a context (available, describe, library, advice) are answered from what they
 * said at load time, already filtered; create, which has no context either, is one trampoline
 * per plugin index (PLUG_SLOTS below). */
typedef struct {
  char path[PATH_MAX];
  dev_t dev; /* the file, whatever its name: a hard link is the same plugin */
  ino_t ino;
  void *dl;
  const mlp_backend *in;
  mlp_backend table;
  mlp_props props;
  char name[MLP_NAME_MAX + 1], summary[256], paths[128], describe[512], why[256];
  int available, has_library, has_advice;
  mlp_library library;
  char advice[512];
} plugin;

static plugin plugs[PLUGINS_MAX];
static int n_plugs;
static int deferred; /* plugins_defer(): paths are checked and kept, nothing is loaded */

void plugins_defer(void) {
  deferred = 1;
}

/* A context the harness holds: the plugin's own, and room for its filtered error. */
typedef struct {
  const mlp_backend *in;
  void *ctx;
  char err[512];
} plug_ctx;

#define IN(c) (((plug_ctx *)(c))->in)
#define CTX(c) (((plug_ctx *)(c))->ctx)

static void *plug_create(int i, const mlp_spec *spec, const mlp_options *opt, char *err,
                         size_t len) {
  char raw[512] = "";
  plug_ctx *pc = calloc(1, sizeof *pc);
  if (!pc) {
    snprintf(err, len, "out of memory");
    return NULL;
  }
  pc->in = plugs[i].in;
  pc->ctx = pc->in->create(spec, opt, raw, sizeof raw);
  if (!pc->ctx) {
    raw[sizeof raw - 1] = '\0'; /* a plugin may forget to terminate it */
    term_text(err, len, raw[0] ? raw : "create failed (the plugin said nothing)");
    free(pc);
    return NULL;
  }
  return pc;
}

static int plug_available(int i, char *why, size_t len) {
  snprintf(why, len, "%s", plugs[i].why);
  return plugs[i].available;
}

static void plug_describe(int i, char *buf, size_t len) {
  snprintf(buf, len, "%s", plugs[i].describe);
}

static int plug_library(int i, mlp_library *out) {
  if (!plugs[i].has_library) return -1;
  *out = plugs[i].library;
  return 0;
}

static int plug_advice(int i, char *buf, size_t len) {
  if (!plugs[i].has_advice) return 0;
  snprintf(buf, len, "%s", plugs[i].advice);
  return 1;
}

#define PLUG_SLOTS(i)                                                                              \
  static void *create_##i(const mlp_spec *s, const mlp_options *o, char *e, size_t l) {            \
    return plug_create(i, s, o, e, l);                                                             \
  }                                                                                                \
  static int available_##i(char *w, size_t l) {                                                    \
    return plug_available(i, w, l);                                                                \
  }                                                                                                \
  static void describe_##i(char *b, size_t l) {                                                    \
    plug_describe(i, b, l);                                                                        \
  }                                                                                                \
  static int library_##i(mlp_library *o) {                                                         \
    return plug_library(i, o);                                                                     \
  }                                                                                                \
  static int advice_##i(char *b, size_t l) {                                                       \
    return plug_advice(i, b, l);                                                                   \
  }
PLUG_SLOTS(0)
PLUG_SLOTS(1)
PLUG_SLOTS(2)
PLUG_SLOTS(3)
PLUG_SLOTS(4)
PLUG_SLOTS(5)
PLUG_SLOTS(6)
PLUG_SLOTS(7)
_Static_assert(PLUGINS_MAX == 8, "one PLUG_SLOTS line per plugin");

static const struct {
  void *(*create)(const mlp_spec *, const mlp_options *, char *, size_t);
  int (*available)(char *, size_t);
  void (*describe)(char *, size_t);
  int (*library)(mlp_library *);
  int (*advice)(char *, size_t);
} per_index[PLUGINS_MAX] = {
#define ROW(i)                                                                                     \
  { create_##i, available_##i, describe_##i, library_##i, advice_##i }
    ROW(0), ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7)};

/* ---- the slots that carry a context: the plugin's, through ours ---- */
static void w_destroy(void *c) {
  if (!c) return;
  IN(c)->destroy(CTX(c));
  free(c);
}
static const char *w_error(void *c) {
  plug_ctx *pc = c;
  const char *e = pc ? pc->in->error(pc->ctx) : NULL;
  if (!pc) return "no context";
  return term_text(pc->err, sizeof pc->err, e ? e : "(the plugin gave no message)");
}
static int w_set_params(void *c, const float *f) {
  return IN(c)->set_params(CTX(c), f);
}
static int w_get_params(void *c, float *f) {
  return IN(c)->get_params(CTX(c), f);
}
static int w_get_grads(void *c, float *f) {
  return IN(c)->get_grads(CTX(c), f);
}
static int w_zero_grads(void *c) {
  return IN(c)->zero_grads(CTX(c));
}
static int w_forward_backward(void *c, const mlp_batch *b, float *loss) {
  return IN(c)->forward_backward(CTX(c), b, loss);
}
static int w_step(void *c) {
  return IN(c)->step(CTX(c));
}
static int w_forward(void *c, const float *x, int n, float *out) {
  return IN(c)->forward(CTX(c), x, n, out);
}
static int w_set_dataset(void *c, const float *x, const int32_t *l, const float *t, int n) {
  return IN(c)->set_dataset(CTX(c), x, l, t, n);
}
static int w_train_steps(void *c, const int32_t *idx, int n, int batch, int zg,
                         mlp_steps_out *out) {
  return IN(c)->train_steps(CTX(c), idx, n, batch, zg, out);
}
static int w_sync(void *c) {
  return IN(c)->sync(CTX(c));
}
static int w_gemm_floor(void *c, int batch, int steps, double *s) {
  return IN(c)->gemm_floor(CTX(c), batch, steps, s);
}
static int w_step_floor(void *c, int batch, int steps, double *s) {
  return IN(c)->step_floor(CTX(c), batch, steps, s);
}
static int w_device_memory(void *c, double *bytes) {
  return IN(c)->device_memory(CTX(c), bytes);
}
static void w_path(void *c, char *buf, size_t len) {
  char raw[256] = "";
  IN(c)->path(CTX(c), raw, sizeof raw);
  raw[sizeof raw - 1] = '\0';
  term_text(buf, len, raw);
}

/* ---- checks on the plugin's own table ---- */
static int check_table(const mlp_backend *t, char *why, size_t len) {
  if (t->abi_version != MLP_BACKEND_ABI) {
    snprintf(why, len,
             "built for mlpbench backend ABI %u, this mlpbench speaks ABI %d (rebuild it against "
             "this mlpbench's mlp_plugin.h)",
             (unsigned)t->abi_version, MLP_BACKEND_ABI);
    return -1;
  }
  if (t->table_size != sizeof(mlp_backend)) {
    snprintf(why, len, "its table is %u bytes, ABI %d's is %zu (a mismatched mlp_backend.h)",
             (unsigned)t->table_size, MLP_BACKEND_ABI, sizeof(mlp_backend));
    return -1;
  }
  const struct {
    const char *slot;
    int present;
  } req[] = {{"name", t->name != NULL},
             {"summary", t->summary != NULL},
             {"available", t->available != NULL},
             {"create", t->create != NULL},
             {"destroy", t->destroy != NULL},
             {"error", t->error != NULL},
             {"set_params", t->set_params != NULL},
             {"get_params", t->get_params != NULL},
             {"get_grads", t->get_grads != NULL},
             {"zero_grads", t->zero_grads != NULL},
             {"forward_backward", t->forward_backward != NULL},
             {"step", t->step != NULL},
             {"forward", t->forward != NULL}};
  for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
    if (!req[i].present) {
      snprintf(why, len, "its table leaves the required slot '%s' NULL", req[i].slot);
      return -1;
    }
  if (!t->set_dataset != !t->train_steps) {
    snprintf(why, len, "its table fills one of set_dataset and train_steps without the other");
    return -1;
  }
  return 0;
}

/* The name: the rule every name follows, and none taken by a backend or peer already. */
static int check_name(const char *name, char *why, size_t len) {
  const char *names[REGISTRY_MAX_LOADED + 64 + 1];
  int n = 0;
  for (int i = 0; i < registry_count() && n < 64 + REGISTRY_MAX_LOADED; i++)
    names[n++] = registry_get(i)->name;
  for (int i = 0; peers_known[i] && n < 64 + REGISTRY_MAX_LOADED; i++)
    names[n++] = peers_known[i];
  if (names_check(&name, 1, MLP_NAME_MAX, "its backend", why, len)) return -1;
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) {
      snprintf(why, len,
               "its backend name '%s' is taken (a built-in backend, a peer or a plugin "
               "loaded before): backend names must be unique",
               name);
      return -1;
    }
  return 0;
}

/* Asks the slots without a context once, and keeps their answers filtered. */
static void cache_answers(plugin *p) {
  char raw[512] = "";
  const mlp_backend *t = p->in;
  p->available = t->available(raw, sizeof raw) ? 1 : 0;
  raw[sizeof raw - 1] = '\0';
  term_text(p->why, sizeof p->why, raw[0] || p->available ? raw : "unavailable (no reason given)");
  term_text(p->summary, sizeof p->summary, t->summary);
  raw[0] = '\0';
  if (t->describe && p->available) t->describe(raw, sizeof raw);
  raw[sizeof raw - 1] = '\0';
  term_text(p->describe, sizeof p->describe, raw);
  if (t->library && p->available && t->library(&p->library) == 0) {
    p->has_library = 1;
    p->library.library[sizeof p->library.library - 1] = '\0';
    p->library.kernel[sizeof p->library.kernel - 1] = '\0';
    term_text(raw, sizeof p->library.library, p->library.library);
    snprintf(p->library.library, sizeof p->library.library, "%s", raw);
    term_text(raw, sizeof p->library.kernel, p->library.kernel);
    snprintf(p->library.kernel, sizeof p->library.kernel, "%s", raw);
  }
  raw[0] = '\0';
  if (t->advice && p->available && t->advice(raw, sizeof raw) == 1) {
    raw[sizeof raw - 1] = '\0';
    p->has_advice = 1;
    term_text(p->advice, sizeof p->advice, raw);
  }
}

/* The registry's copy: our slots around the plugin's, optional ones only where it has them. */
static void build_table(plugin *p, int i) {
  const mlp_backend *t = p->in;
  snprintf(p->name, sizeof p->name, "%s", t->name);
  if (t->props) p->props = *t->props;
  p->props.reference = 0; /* the reference row is naive's: "x vs reference" divides by one */
  if (p->props.paths) p->props.paths = term_text(p->paths, sizeof p->paths, p->props.paths);
  p->table = (mlp_backend){
      .name = p->name,
      .summary = p->summary,
      .available = per_index[i].available,
      .describe = per_index[i].describe,
      .create = per_index[i].create,
      .destroy = w_destroy,
      .error = w_error,
      .set_params = w_set_params,
      .get_params = w_get_params,
      .get_grads = w_get_grads,
      .zero_grads = w_zero_grads,
      .forward_backward = w_forward_backward,
      .step = w_step,
      .forward = w_forward,
      .set_dataset = t->set_dataset ? w_set_dataset : NULL,
      .train_steps = t->train_steps ? w_train_steps : NULL,
      .sync = t->sync ? w_sync : NULL,
      .gemm_floor = t->gemm_floor ? w_gemm_floor : NULL,
      .step_floor = t->step_floor ? w_step_floor : NULL,
      .device_memory = t->device_memory ? w_device_memory : NULL,
      .props = &p->props,
      .path = t->path ? w_path : NULL,
      .library = t->library ? per_index[i].library : NULL,
      .advice = t->advice ? per_index[i].advice : NULL,
      .tuned_env = NULL,   /* a plugin does not get to re-run mlpbench with an environment */
      .wait_policy = NULL, /* nor set its threads' environment */
      .peak_gflops = NULL, /* the machine's peak is measured through a built-in library */
  };
}

/* dlopen's words carry the path, which came from the user: filtered like it. */
static void fail(char *err, size_t len, const char *path, const char *why) {
  char p[256], w[512];
  snprintf(err, len, "backend plugin %s: %s", term_text(p, sizeof p, path),
           term_text(w, sizeof w, why));
}

typedef const mlp_backend *(*entry_fn)(int);

static int open_plugin(plugin *p, char *why, size_t len) {
  dlerror();
  p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
  if (!p->dl) {
    const char *e = dlerror();
    snprintf(why, len, "cannot load it as a shared library: %s", e ? e : "dlopen failed");
    return -1;
  }
  entry_fn entry;
  *(void **)&entry = dlsym(p->dl, MLPBENCH_BACKEND_ENTRY);
  if (!entry) {
    snprintf(why, len, "not an mlpbench plugin: it exports no %s()", MLPBENCH_BACKEND_ENTRY);
    return -1;
  }
  if (!(p->in = entry(MLP_BACKEND_ABI))) {
    snprintf(why, len, "its %s(%d) returned no table (it does not speak this ABI)",
             MLPBENCH_BACKEND_ENTRY, MLP_BACKEND_ABI);
    return -1;
  }
  return 0;
}

int plugins_load(const char *path, char *err, size_t len) {
  char real[PATH_MAX], why[512];
  struct stat st;
  if (!realpath(path, real) || stat(real, &st) != 0) {
    snprintf(why, sizeof why, "%s", strerror(errno));
    goto bad;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(why, sizeof why, "not a regular file");
    goto bad;
  }
  for (int i = 0; i < n_plugs; i++)
    if (plugs[i].dev == st.st_dev && plugs[i].ino == st.st_ino) return 0;
  if (n_plugs == PLUGINS_MAX) {
    snprintf(why, sizeof why, "more than %d plugins", PLUGINS_MAX);
    goto bad;
  }
  plugin *p = &plugs[n_plugs];
  memset(p, 0, sizeof *p);
  snprintf(p->path, sizeof p->path, "%s", real);
  p->dev = st.st_dev;
  p->ino = st.st_ino;
  if (deferred) {
    n_plugs++;
    return 0;
  }
  if (open_plugin(p, why, sizeof why) || check_table(p->in, why, sizeof why) ||
      check_name(p->in->name, why, sizeof why))
    goto close;
  cache_answers(p);
  build_table(p, n_plugs);
  if (registry_add(&p->table)) {
    snprintf(why, sizeof why, "more than %d loaded backends", REGISTRY_MAX_LOADED);
    goto close;
  }
  n_plugs++;
  return 0;
close:
  if (p->dl) dlclose(p->dl);
  memset(p, 0, sizeof *p);
bad:
  fail(err, len, path, why);
  return -1;
}

int plugins_load_env(char *err, size_t len) {
  const char *env = getenv(PLUGINS_ENV);
  if (!env || !*env) return 0;
  char *list = strdup(env);
  if (!list) {
    snprintf(err, len, "%s: out of memory", PLUGINS_ENV);
    return -1;
  }
  int rc = 0;
  for (char *save = NULL, *tok = strtok_r(list, ":", &save); tok && !rc;
       tok = strtok_r(NULL, ":", &save))
    rc = plugins_load(tok, err, len);
  free(list);
  return rc;
}

int plugins_count(void) {
  return n_plugs;
}

const char *plugins_path(int i) {
  return plugs[i].path;
}
