// gbench_shim.cc: the C++ side of gbench_shim.h.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Registered {
  gbs_benchmark b;
  std::string name;
};

std::vector<Registered *> &registry() {
  static std::vector<Registered *> r;
  return r;
}

void run_one(benchmark::State &state, const Registered *r) {
  int64_t arg = r->b.nargs ? state.range(0) : 0;
  const int64_t *args = r->b.nargs ? &arg : nullptr;
  for (auto _ : state) {
    double seconds = 0.0;
    const char *err = r->b.fn(r->b.ctx, args, r->b.nargs ? 1 : 0, &seconds);
    if (err) {
      state.SkipWithError(err);
      break;
    }
    if (r->b.manual_time) state.SetIterationTime(seconds);
  }
  double items = r->b.items_for ? r->b.items_for(r->b.ctx, arg) : r->b.items_per_iter;
  double flops = r->b.flops_for ? r->b.flops_for(r->b.ctx, arg) : r->b.flops_per_iter;
  if (items > 0)
    state.counters["items_per_second"] =
        benchmark::Counter(items * state.iterations(), benchmark::Counter::kIsRate);
  if (flops > 0)
    state.counters["FLOPS"] = benchmark::Counter(
        flops * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

} // namespace

extern "C" int gbs_register(const gbs_benchmark *b) {
  if (!b || !b->name || !b->fn) return -1;
  auto *r = new Registered{*b, b->name};
  r->b.name = r->name.c_str();
  std::vector<int64_t> args(b->args, b->args + b->nargs);
  r->b.args = nullptr; /* the caller's array need not outlive registration */
  registry().push_back(r);
  auto *bm = benchmark::RegisterBenchmark(r->name.c_str(), run_one, r);
  for (int64_t a : args)
    bm->Arg(a);
  if (b->manual_time) bm->UseManualTime();
  bm->Unit(benchmark::kMicrosecond);
  return 0;
}

/* --benchmark_min_time=0.05s is how libbenchmark 1.8 and later spell it; 1.7 (Debian 12's)
 * takes a plain number of seconds and rejects the suffix. A plain number works with both
 * (1.8 warns), so a seconds suffix is dropped here; "Nx" (iterations) needs 1.8. */
static void normalize_min_time(int argc, char **argv) {
  static const char flag[] = "--benchmark_min_time=";
  static std::string kept[16];
  int n = 0;
  for (int i = 1; i < argc && n < 16; i++) {
    std::string a = argv[i];
    if (a.rfind(flag, 0) != 0 || a.size() < sizeof flag + 1 || a.back() != 's') continue;
    std::string num = a.substr(sizeof flag - 1, a.size() - sizeof flag);
    char *end = nullptr;
    std::strtod(num.c_str(), &end);
    if (num.empty() || *end) continue; /* not a number of seconds: the library says so */
    kept[n] = std::string(flag) + num;
    argv[i] = &kept[n++][0];
  }
}

extern "C" int gbs_run(int *argc, char **argv) {
  normalize_min_time(*argc, argv);
  benchmark::Initialize(argc, argv);
  if (benchmark::ReportUnrecognizedArguments(*argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto *r : registry())
    delete r;
  registry().clear();
  return 0;
}
