# Thin wrapper over CMake. make | make bench | make test | make clean
#   make bench                     also writes results/latest.html (mlpbench report)
#   make bench DATA=fashion        the full Fashion-MNIST (installs dataset-fashion-mnist)
#   make peers [TORCH=1]           the peers' Python environment: $(BUILD)/peers-venv with the
#                                  pinned JAX (and, TORCH=1, PyTorch: ~3 GB) from PyPI
#   make bench PEERS=1             adds the peers' rows: numpy, torch, jax, jax-scan, torch-fused,
#                                  torch-compile (python3-numpy, python3-torch; make peers)
#   make bench BENCH_ARGS="..."    any mlpbench bench options
#   make bench-check [BASE=rev]    the regression gate: BASE (HEAD~1) vs the working tree
#   make micro MICRO_ARGS="..."    Google Benchmark micro-benchmarks (--benchmark_filter=...)
#   make sanitize                  the whole test suite under ASan + UBSan (build-asan)
#   make valgrind                  a short training run under valgrind memcheck
#   make fuzz [FUZZ=60s|RUNS]      the libFuzzer targets (clang), 10M executions each by default
#   HIP_CPU=DIR                    the HIP CPU runtime for the cuda-emu backend (default:
#                                  ../shared/hip-cpu when it is there; HIP_CPU= turns it off)
BUILD ?= build
CMAKE_FLAGS ?=
DATA ?=
PEERS ?=
TORCH ?=
PYTHON ?= python3
PEERS_VENV = $(BUILD)/peers-venv
PEERS_ALL = numpy,torch,jax,jax-scan,torch-fused,torch-compile
BASE ?= HEAD~1
BENCH_ARGS ?=
MICRO_ARGS ?=
comma := ,
HIP_CPU ?= $(if $(wildcard ../shared/hip-cpu/include/hip/hip_runtime.h),$(abspath ../shared/hip-cpu))
DEPS_EXTRA = $(if $(filter fashion,$(DATA)),dataset-fashion-mnist) \
             $(if $(PEERS),python3-numpy python3-torch) $(if $(HIP_CPU),libtbb-dev)

.PHONY: all deps peers bench bench-check micro test sanitize valgrind fuzz clean
FUZZ ?= 10000000

all: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DMLPBENCH_HIP_CPU=$(HIP_CPU) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j2

deps:
	@bash harness/scripts/deps.sh $(DEPS_EXTRA)

# The peers' own environment, never the system Python: a venv in the build tree with the pinned
# versions (bench --peers looks for it there; README "Peers"). Re-running installs what changed.
peers:
	@bash harness/scripts/deps.sh python3-venv
	@test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --disable-pip-version-check -q \
	  -r workloads/reference/requirements-jax.txt \
	  $(if $(TORCH),-r workloads/reference/requirements-torch.txt)
	@$(PEERS_VENV)/bin/python -c 'import jax, optax, numpy; print("peers-venv: jax", jax.__version__, \
	  "optax", optax.__version__, "numpy", numpy.__version__)'

# the in-tree plugins (oneDNN, BLIS) join the run when they were built
PLUGIN_LIBS = $(foreach p,$(wildcard $(BUILD)/plugins/libmlpbench-*.so),--backend-lib $(p))

bench: all
	./$(BUILD)/mlpbench bench $(PLUGIN_LIBS) --results results/latest.json --markdown results/latest.md \
	  --plots plots --sweep $(if $(DATA),--data $(DATA)) $(if $(PEERS),--peers $(PEERS_ALL)) \
	  $(BENCH_ARGS)
	@# a dated copy beside latest, so the report's history grows run by run (git ignores both)
	cp results/latest.json results/bench-$$(date -u +%Y%m%dT%H%M%SZ).json
	./$(BUILD)/mlpbench report results/latest.json --images plots --history results \
	  --out results/latest.html

bench-check: all
	bash harness/scripts/bench-check.sh $(BASE)

micro: all
	./$(BUILD)/mlpbench-micro $(MICRO_ARGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j2
	@grep -h "^skipped:" $(BUILD)/Testing/Temporary/LastTest.log 2>/dev/null || true

sanitize: deps
	@test -f build-asan/CMakeCache.txt || cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLPBENCH_SANITIZE=ON
	cmake --build build-asan -j2
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2

# valgrind 3.19 knows no AVX-512: a build without -march=native, OpenBLAS on its AVX2 kernels;
# MLPBENCH_REEXEC: mlpbench must not re-run itself to set its threads' wait policy, or the
# re-run would leave valgrind and run unchecked
valgrind: deps
	@bash harness/scripts/deps.sh valgrind
	@test -f build-valgrind/CMakeCache.txt || cmake -S . -B build-valgrind \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLPBENCH_NATIVE=OFF -DMLPBENCH_CUDA=OFF
	cmake --build build-valgrind -j2 --target mlpbench
	MLPBENCH_REEXEC=valgrind OPENBLAS_CORETYPE=Haswell valgrind --error-exitcode=9 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --suppressions=tests/valgrind.supp \
	  ./build-valgrind/mlpbench train --backend naive,blas --limit 600 --epochs 1 --quiet
	MLPBENCH_REEXEC=valgrind OPENBLAS_CORETYPE=Haswell valgrind --error-exitcode=9 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect --suppressions=tests/valgrind.supp \
	  ./build-valgrind/mlpbench bench --workload all --data synthetic:400 --epochs 2 --quiet \
	  --results /tmp/mlpbench-valgrind.json

fuzz:
	@bash harness/scripts/deps.sh clang libclang-rt-14-dev
	bash tests/fuzz/run-fuzz.sh $(FUZZ)

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-valgrind
