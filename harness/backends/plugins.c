#define _GNU_SOURCE
#include "plugins.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../impls/mlp_plugin.h"
#include "../sys/plugin_guard.h"
#include "../sys/sha256.h"
#include "../sys/term_text.h"
#include "names.h"
#include "peer_names.h"
#include "registry.h"

/* One loaded plugin: the registry's copy of its table (first, so a slot's `self` finds the
 * plugin), its library, its own table and its filtered words. Each plugin is its own
 * allocation, so the tables the registry holds never move. */
typedef struct {
  mlp_backend table;
  char path[PATH_MAX];
  dev_t dev; /* the file, whatever its name: a hard link is the same plugin */
  ino_t ino;
  void *dl;
  const mlp_backend *in;
  mlp_props props;
  char name[MLP_NAME_MAX + 1], summary[256], paths[128];
  char sha256[65];        /* of the file loaded: the results file's plugin_sha256 */
  char fenv_changed[192]; /* "forward_backward: FTZ on": the first call that changed it */
} plugin;

static plugin **plugs;
static int n_plugs, cap_plugs;
static int deferred; /* plugins_defer(): paths are checked and kept, nothing is loaded */

void plugins_defer(void) {
  deferred = 1;
}

static plugin *of(const mlp_backend *self) {
  return (plugin *)(void *)((char *)self - offsetof(plugin, table));
}

/* A context the harness holds: the plugin's own, and room for its filtered error. */
typedef struct {
  plugin *p;
  void *ctx;
  char err[512];
} plug_ctx;

#define PL(c) (((plug_ctx *)(c))->p)
#define IN(c) (((plug_ctx *)(c))->p->in)
#define CTX(c) (((plug_ctx *)(c))->ctx)

/* ---- every call into the plugin: guarded (plugin_guard.h) ---- */
static void enter(guard_call *g, plugin *p, const char *slot) {
  guard_enter(g, p->name[0] ? p->name : "(loading)", slot);
}

static void leave(guard_call *g, plugin *p) {
  if (!guard_leave(g) || p->fenv_changed[0]) return;
  snprintf(p->fenv_changed, sizeof p->fenv_changed, "%s: %s", g->slot, g->what);
  fprintf(stderr,
          "mlpbench: backend %s changed the floating-point environment in its %s slot (%s): "
          "mlpbench restores it after each of its calls; its row records this "
          "(plugin_fenv_changed)\n",
          p->name, g->slot, g->what);
}

/* GUARDED(p, "slot", expr): expr under the guard, its value returned */
#define GUARDED(p, slot, type, expr)                                                               \
  do {                                                                                             \
    guard_call g_;                                                                                 \
    enter(&g_, p, slot);                                                                           \
    type r_ = (expr);                                                                              \
    leave(&g_, p);                                                                                 \
    return r_;                                                                                     \
  } while (0)
#define GUARDED_VOID(p, slot, expr)                                                                \
  do {                                                                                             \
    guard_call g_;                                                                                 \
    enter(&g_, p, slot);                                                                           \
    expr;                                                                                          \
    leave(&g_, p);                                                                                 \
  } while (0)

/* ---- the slots without a context: the plugin's own table as its `self` ---- */
static void *w_create(const mlp_backend *self, const mlp_spec *spec, const mlp_options *opt,
                      char *err, size_t len) {
  plugin *p = of(self);
  char raw[512] = "";
  plug_ctx *pc = calloc(1, sizeof *pc);
  if (!pc) {
    snprintf(err, len, "out of memory");
    return NULL;
  }
  pc->p = p;
  GUARDED_VOID(p, "create", pc->ctx = p->in->create(p->in, spec, opt, raw, sizeof raw));
  if (!pc->ctx) {
    raw[sizeof raw - 1] = '\0'; /* a plugin may forget to terminate it */
    term_text(err, len, raw[0] ? raw : "create failed (the plugin said nothing)");
    free(pc);
    return NULL;
  }
  return pc;
}

static int w_available(const mlp_backend *self, char *why, size_t len) {
  plugin *p = of(self);
  char raw[512] = "";
  int ok;
  GUARDED_VOID(p, "available", ok = p->in->available(p->in, raw, sizeof raw) ? 1 : 0);
  raw[sizeof raw - 1] = '\0';
  term_text(why, len, raw[0] || ok ? raw : "unavailable (no reason given)");
  return ok;
}

static void w_describe(const mlp_backend *self, void *c, char *buf, size_t len) {
  plugin *p = of(self);
  char raw[512] = "";
  GUARDED_VOID(p, "describe", p->in->describe(p->in, c ? CTX(c) : NULL, raw, sizeof raw));
  raw[sizeof raw - 1] = '\0';
  term_text(buf, len, raw);
}

static int w_library(const mlp_backend *self, mlp_library *out) {
  plugin *p = of(self);
  mlp_library raw;
  memset(&raw, 0, sizeof raw);
  int rc;
  GUARDED_VOID(p, "library", rc = p->in->library(p->in, &raw));
  if (rc) return -1;
  raw.library[sizeof raw.library - 1] = '\0';
  raw.kernel[sizeof raw.kernel - 1] = '\0';
  term_text(out->library, sizeof out->library, raw.library);
  term_text(out->kernel, sizeof out->kernel, raw.kernel);
  out->threads = raw.threads;
  return 0;
}

static int w_advice(const mlp_backend *self, char *buf, size_t len) {
  plugin *p = of(self);
  char raw[512] = "";
  int rc;
  GUARDED_VOID(p, "advice", rc = p->in->advice(p->in, raw, sizeof raw));
  if (rc != 1) return 0;
  raw[sizeof raw - 1] = '\0';
  term_text(buf, len, raw);
  return 1;
}

/* ---- the slots that carry a context: the plugin's, through ours ---- */
static void w_destroy(void *c) {
  if (!c) return;
  GUARDED_VOID(PL(c), "destroy", IN(c)->destroy(CTX(c)));
  free(c);
}
static const char *w_error(void *c) {
  plug_ctx *pc = c;
  if (!pc) return "no context";
  const char *e;
  GUARDED_VOID(pc->p, "error", e = pc->p->in->error(pc->ctx));
  return term_text(pc->err, sizeof pc->err, e ? e : "(the plugin gave no message)");
}
static int w_set_params(void *c, const float *f) {
  GUARDED(PL(c), "set_params", int, IN(c)->set_params(CTX(c), f));
}
static int w_get_params(void *c, float *f) {
  GUARDED(PL(c), "get_params", int, IN(c)->get_params(CTX(c), f));
}
static int w_get_grads(void *c, float *f) {
  GUARDED(PL(c), "get_grads", int, IN(c)->get_grads(CTX(c), f));
}
static int w_zero_grads(void *c) {
  GUARDED(PL(c), "zero_grads", int, IN(c)->zero_grads(CTX(c)));
}
static int w_forward_backward(void *c, const mlp_batch *b, float *loss) {
  GUARDED(PL(c), "forward_backward", int, IN(c)->forward_backward(CTX(c), b, loss));
}
static int w_step(void *c) {
  GUARDED(PL(c), "step", int, IN(c)->step(CTX(c)));
}
static int w_forward(void *c, const float *x, int n, float *out) {
  GUARDED(PL(c), "forward", int, IN(c)->forward(CTX(c), x, n, out));
}
static int w_set_dataset(void *c, const float *x, const int32_t *l, const float *t, int n) {
  GUARDED(PL(c), "set_dataset", int, IN(c)->set_dataset(CTX(c), x, l, t, n));
}
static int w_train_steps(void *c, const int32_t *idx, int n, int batch, int zg,
                         mlp_steps_out *out) {
  GUARDED(PL(c), "train_steps", int, IN(c)->train_steps(CTX(c), idx, n, batch, zg, out));
}
static int w_sync(void *c) {
  GUARDED(PL(c), "sync", int, IN(c)->sync(CTX(c)));
}
static int w_gemm_floor(void *c, int batch, int steps, double *s) {
  GUARDED(PL(c), "gemm_floor", int, IN(c)->gemm_floor(CTX(c), batch, steps, s));
}
static int w_step_floor(void *c, int batch, int steps, double *s) {
  GUARDED(PL(c), "step_floor", int, IN(c)->step_floor(CTX(c), batch, steps, s));
}
static int w_device_memory(void *c, double *bytes) {
  GUARDED(PL(c), "device_memory", int, IN(c)->device_memory(CTX(c), bytes));
}
static int w_set_threads(void *c, int threads) {
  GUARDED(PL(c), "set_threads", int, IN(c)->set_threads(CTX(c), threads));
}
static void w_path(void *c, char *buf, size_t len) {
  char raw[256] = "";
  GUARDED_VOID(PL(c), "path", IN(c)->path(CTX(c), raw, sizeof raw));
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
  if (names_check(&name, 1, MLP_NAME_MAX, "its backend", why, len)) return -1;
  int taken = 0;
  for (int i = 0; i < registry_count(); i++)
    taken |= strcmp(registry_get(i)->name, name) == 0;
  for (int i = 0; peers_known[i]; i++)
    taken |= strcmp(peers_known[i], name) == 0;
  if (taken) {
    snprintf(why, len,
             "its backend name '%s' is taken (a built-in backend, a peer or a plugin "
             "loaded before): backend names must be unique",
             name);
    return -1;
  }
  return 0;
}

/* The registry's copy: our slots around the plugin's, optional ones only where it has them. */
static void build_table(plugin *p) {
  const mlp_backend *t = p->in;
  snprintf(p->name, sizeof p->name, "%s", t->name);
  term_text(p->summary, sizeof p->summary, t->summary);
  if (t->props) p->props = *t->props;
  p->props.reference = 0; /* the reference row is naive's: "x vs reference" divides by one */
  if (p->props.paths) p->props.paths = term_text(p->paths, sizeof p->paths, p->props.paths);
  p->table = (mlp_backend){
      .name = p->name,
      .summary = p->summary,
      .available = w_available,
      .describe = t->describe ? w_describe : NULL,
      .create = w_create,
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
      .library = t->library ? w_library : NULL,
      .advice = t->advice ? w_advice : NULL,
      .tuned_env = NULL,   /* a plugin does not get to re-run mlpbench with an environment */
      .wait_policy = NULL, /* nor set its threads' environment */
      .peak_gflops = NULL, /* the machine's peak is measured through a built-in library */
      .set_threads = t->set_threads ? w_set_threads : NULL,
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
  guard_call g;
  enter(&g, p, "constructor"); /* dlopen runs its constructors */
  p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
  leave(&g, p);
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
  enter(&g, p, MLPBENCH_BACKEND_ENTRY);
  p->in = entry(MLP_BACKEND_ABI);
  leave(&g, p);
  if (!p->in) {
    snprintf(why, len, "its %s(%d) returned no table (it does not speak this ABI)",
             MLPBENCH_BACKEND_ENTRY, MLP_BACKEND_ABI);
    return -1;
  }
  return 0;
}

int plugins_load(const char *path, char *err, size_t len) {
  char real[PATH_MAX], why[512];
  struct stat st;
  plugin *p = NULL;
  if (!realpath(path, real) || stat(real, &st) != 0) {
    snprintf(why, sizeof why, "%s", strerror(errno));
    goto bad;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(why, sizeof why, "not a regular file");
    goto bad;
  }
  for (int i = 0; i < n_plugs; i++)
    if (plugs[i]->dev == st.st_dev && plugs[i]->ino == st.st_ino) return 0;
  if (n_plugs == cap_plugs) {
    int cap = cap_plugs ? 2 * cap_plugs : 8;
    plugin **grown = realloc(plugs, sizeof *plugs * (size_t)cap);
    if (!grown) {
      snprintf(why, sizeof why, "out of memory");
      goto bad;
    }
    plugs = grown;
    cap_plugs = cap;
  }
  if (!(p = calloc(1, sizeof *p))) {
    snprintf(why, sizeof why, "out of memory");
    goto bad;
  }
  snprintf(p->path, sizeof p->path, "%s", real);
  p->dev = st.st_dev;
  p->ino = st.st_ino;
  if (deferred) {
    plugs[n_plugs++] = p;
    return 0;
  }
  /* the bytes that will run: hashed before dlopen maps them */
  if (sha256_file(p->path, p->sha256)) {
    snprintf(why, sizeof why, "cannot read it: %s", strerror(errno));
    goto close;
  }
  if (open_plugin(p, why, sizeof why) || check_table(p->in, why, sizeof why) ||
      check_name(p->in->name, why, sizeof why))
    goto close;
  build_table(p);
  if (registry_add(&p->table)) {
    snprintf(why, sizeof why, "out of memory");
    goto close;
  }
  plugs[n_plugs++] = p;
  return 0;
close:
  if (p->dl) dlclose(p->dl);
  free(p);
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
  return plugs[i]->path;
}

static plugin *find(const mlp_backend *be) {
  for (int i = 0; i < n_plugs; i++)
    if (&plugs[i]->table == be) return plugs[i];
  return NULL;
}

int plugins_source(const mlp_backend *be, const char **path, const char **sha256) {
  plugin *p = find(be);
  if (!p) return -1;
  *path = p->path;
  *sha256 = p->sha256;
  return 0;
}

const char *plugins_fenv_changed(const mlp_backend *be) {
  plugin *p = find(be);
  return p && p->fenv_changed[0] ? p->fenv_changed : NULL;
}
