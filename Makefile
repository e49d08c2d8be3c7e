# Thin wrapper over CMake. make | make bench | make test | make clean
#   make bench DATA=fashion        the full Fashion-MNIST (installs dataset-fashion-mnist)
#   make bench PEERS=1             adds numpy and PyTorch rows (python3-numpy, python3-torch)
#   make bench BENCH_ARGS="..."    any mlpbench bench options
#   make bench-check [BASE=rev]    the regression gate: BASE (HEAD~1) vs the working tree
#   make micro MICRO_ARGS="..."    Google Benchmark micro-benchmarks (--benchmark_filter=...)
BUILD ?= build
CMAKE_FLAGS ?=
DATA ?=
PEERS ?=
BASE ?= HEAD~1
BENCH_ARGS ?=
MICRO_ARGS ?=
DEPS_EXTRA = $(if $(filter fashion,$(DATA)),dataset-fashion-mnist) \
             $(if $(PEERS),python3-numpy python3-torch)

.PHONY: all deps bench bench-check micro test clean

all: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j2

deps:
	@bash harness/scripts/deps.sh $(DEPS_EXTRA)

bench: all
	./$(BUILD)/mlpbench bench --results results/latest.json --markdown results/latest.md \
	  --plots plots --sweep $(if $(DATA),--data $(DATA)) $(if $(PEERS),--peers numpy,torch) \
	  $(BENCH_ARGS)

bench-check: all
	bash harness/scripts/bench-check.sh $(BASE)

micro: all
	./$(BUILD)/mlpbench-micro $(MICRO_ARGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j2
	@grep -h "^skipped:" $(BUILD)/Testing/Temporary/LastTest.log 2>/dev/null || true

clean:
	rm -rf $(BUILD)
