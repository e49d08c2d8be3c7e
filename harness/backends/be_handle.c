#include "be_handle.h"

#include <stdio.h>
#include <string.h>

int be_offers(const mlp_backend *be, be_slot slot) {
  switch (slot) {
  case BE_DESCRIBE:
    return be->describe != NULL;
  case BE_RESIDENT:
    return be->set_dataset && be->train_steps;
  case BE_SYNC:
    return be->sync != NULL;
  case BE_GEMM_FLOOR:
    return be->gemm_floor != NULL;
  case BE_STEP_FLOOR:
    return be->step_floor != NULL;
  case BE_DEVICE_MEMORY:
    return be->device_memory != NULL;
  case BE_PATH:
    return be->path != NULL;
  case BE_LIBRARY:
    return be->library != NULL;
  case BE_ADVICE:
    return be->advice != NULL;
  case BE_TUNED_ENV:
    return be->tuned_env != NULL;
  case BE_PEAK_GFLOPS:
    return be->peak_gflops != NULL;
  case BE_SET_THREADS:
    return be->set_threads != NULL;
  }
  return 0;
}

int be_available(const mlp_backend *be, char *why, size_t len) {
  if (len) why[0] = '\0';
  return be->available(be, why, len) ? 1 : 0;
}

void be_describe(const mlp_backend *be, void *ctx, char *buf, size_t len) {
  if (len) buf[0] = '\0';
  if (be->describe) be->describe(be, ctx, buf, len);
}

int be_library(const mlp_backend *be, mlp_library *out) {
  return be->library && be->library(be, out) == 0 ? 0 : -1;
}

int be_advice(const mlp_backend *be, char *buf, size_t len) {
  return be->advice && be->advice(be, buf, len) == 1 ? 1 : 0;
}

int be_tuned_env(const mlp_backend *be, const char *request, char *name, size_t nlen, char *value,
                 size_t vlen, char *err, size_t elen) {
  return be->tuned_env ? be->tuned_env(be, request, name, nlen, value, vlen, err, elen) : 0;
}

const mlp_wait_policy *be_wait_policy(const mlp_backend *be) {
  return be->wait_policy;
}

int be_peak_gflops(const mlp_backend *be, const mlp_options *opt, double budget_s, double *gflops,
                   char *desc, size_t dlen, char *err, size_t elen) {
  if (!be->peak_gflops) return BE_ABSENT;
  return be->peak_gflops(be, opt, budget_s, gflops, desc, dlen, err, elen) ? -1 : 0;
}

const mlp_props *be_props(const mlp_backend *be) {
  static const mlp_props none = {0};
  return be->props ? be->props : &none;
}

int be_open(be_handle *h, const mlp_backend *be, const mlp_spec *spec, const mlp_options *opt,
            char *err, size_t len) {
  char why[256] = "";
  memset(h, 0, sizeof *h);
  h->be = be;
  h->spec = *spec;
  mlp_options o = *opt;
  if (!be_props(be)->paths) o.path = NULL; /* a path request is for backends that offer paths */
  h->ctx = be->create(be, spec, &o, why, sizeof why);
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

int be_set_threads(be_handle *h, int threads) {
  return be_offers(h->be, BE_SET_THREADS) && threads >= 1 ? h->be->set_threads(h->ctx, threads)
                                                          : -1;
}

const char *be_error(const be_handle *h) {
  return h->ctx ? h->be->error(h->ctx) : "no context";
}

int be_sync(be_handle *h) {
  return h->be->sync ? h->be->sync(h->ctx) : 0;
}

int be_set_dataset(be_handle *h, const float *x, const int32_t *labels, const float *targets,
                   int n) {
  if (!be_offers(h->be, BE_RESIDENT)) return 1;
  return h->be->set_dataset(h->ctx, x, labels, targets, n);
}

int be_train_steps(be_handle *h, const int32_t *idx, int n_idx, int batch, int zero_grad,
                   mlp_steps_out *out) {
  if (!be_offers(h->be, BE_RESIDENT)) return -1;
  return h->be->train_steps(h->ctx, idx, n_idx, batch, zero_grad, out);
}

int be_gemm_floor(be_handle *h, int batch, int steps, double *seconds) {
  if (!h->be->gemm_floor) return BE_ABSENT;
  return h->be->gemm_floor(h->ctx, batch, steps, seconds) ? -1 : 0;
}

int be_step_floor(be_handle *h, int batch, int steps, double *seconds) {
  if (!h->be->step_floor) return BE_ABSENT;
  return h->be->step_floor(h->ctx, batch, steps, seconds) ? -1 : 0;
}

int be_device_memory(be_handle *h, double *bytes) {
  if (!h->be->device_memory) return BE_ABSENT;
  return h->be->device_memory(h->ctx, bytes) ? -1 : 0;
}

void be_path(be_handle *h, char *buf, size_t len) {
  if (len) buf[0] = '\0';
  if (h->be->path) h->be->path(h->ctx, buf, len);
}
