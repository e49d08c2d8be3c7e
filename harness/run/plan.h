/* plan.h: what one command will run, parsed once by the command layer (cli.c) and handed
 * down: each module takes the plan, or only the fields it uses, never the option bag. */
#ifndef MLPB_PLAN_H
#define MLPB_PLAN_H

#include <stdint.h>

#include "../../impls/mlp_backend.h"
#include "../../workloads/workload.h"
#include "../backends/peer_names.h"

/* names an explicit --backend list may hold (the default list holds every available one) */
#define PLAN_MAX_BACKENDS 64
#define PLAN_MAX_PEERS PEERS_KNOWN_N /* every peer once */
#define PLAN_MAX_WORKLOADS 8

typedef struct {
  const mlp_backend **backends;      /* as many as were named, or every available one: no cap */
  int n_backends, cap_backends;      /* grown by plan_add_backend */
  const char *peers[PLAN_MAX_PEERS]; /* names from peers_known */
  int n_peers;
  const wl_entry *workloads[PLAN_MAX_WORKLOADS];
  int n_workloads;
  int wl_all;       /* the workloads came from --workload all (each runs with what it takes there);
                     * 0: named, each given every setting it takes */
  const char *data; /* --data SPEC (NULL: the embedded digits) */
  wl_config wl;
  mlp_options opts; /* threads, FTZ/DAZ, TF32 */
  uint64_t seed;
  int warmup;
  int repeat, block; /* 0: the workload's default */
  int fd_samples;
  int quiet;
  int sweep;
  int processes;      /* fresh processes per backend (bench --processes) */
  int peer_timeout_s; /* a peer is killed past this (bench/gradcheck --peer-timeout) */
  int require_quiet;  /* bench --require-quiet: a disturbed row fails the run (exit 3); the
                       * parent of --processes judges, so a child's plan never carries it */
  struct {            /* the machine peak a --processes child reuses (its parent's) */
    int given;
    double gflops;
    const char *by, *at, *disturbed;
  } peak;
  struct {
    const char *results, *markdown, *plots; /* bench's destinations; NULL: none */
    int format;                             /* results_format */
  } out;
} run_plan;

/* Runs per backend and epochs per timing sample for w under this plan. */
int plan_repeat(const run_plan *p, const workload *w);
int plan_block(const run_plan *p, const workload *w);

/* Appends a backend to p->backends; 0, or -1 out of memory. A plan is copied by value (a
 * --processes child's, a test's), so its list is never freed while the process runs. */
int plan_add_backend(run_plan *p, const mlp_backend *be);

#endif
