#include "be_handle.h"

#include <stdio.h>
#include <string.h>

int be_open(be_handle *h, const mlp_backend *be, const mlp_spec *spec, const mlp_options *opt,
            char *err, size_t len) {
  char why[256] = "";
  memset(h, 0, sizeof *h);
  h->be = be;
  h->spec = *spec;
  mlp_options o = *opt;
  if (!be_props(be)->paths) o.path = NULL; /* a path request is for backends that offer paths */
  h->ctx = be->create(spec, &o, why, sizeof why);
  if (!h->ctx) {
    snprintf(err, len, "%s: %s", be->name, why);
    return -1;
  }
  return 0;
}

void be_close(be_handle *h) {
  if (h->ctx) h->be->destroy(h->ctx);
  h->ctx = NULL;
}

int be_sync(be_handle *h) {
  return h->be->sync ? h->be->sync(h->ctx) : 0;
}

int be_set_threads(be_handle *h, int threads) {
  return h->be->set_threads && threads >= 1 ? h->be->set_threads(h->ctx, threads) : -1;
}

const char *be_error(const be_handle *h) {
  return h->ctx ? h->be->error(h->ctx) : "no context";
}

const mlp_props *be_props(const mlp_backend *be) {
  static const mlp_props none = {0};
  return be->props ? be->props : &none;
}
