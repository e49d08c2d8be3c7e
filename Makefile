# Thin wrapper over CMake: make, make bench, make test, make clean.
BUILD ?= build
CMAKE_FLAGS ?=
DATA ?=
BENCH_ARGS ?=
DEPS_EXTRA = $(if $(filter fashion,$(DATA)),dataset-fashion-mnist)

.PHONY: all deps bench test clean

all: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j2

deps:
	@bash harness/scripts/deps.sh $(DEPS_EXTRA)

bench: all
	./$(BUILD)/mlpbench bench $(if $(DATA),--data $(DATA)) $(BENCH_ARGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j2
	@grep -h "^skipped:" $(BUILD)/Testing/Temporary/LastTest.log 2>/dev/null || true

clean:
	rm -rf $(BUILD)
