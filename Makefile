# edgepipe: the two commands of the README, and a few more.
#   make run    set up if needed, Release build, run the main job
#   make test   set up if needed, build, run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := run
JOBS ?= $(shell nproc)
BUILD_DIR ?= build/release
EDGEPIPE := $(BUILD_DIR)/bin/edgepipe

.PHONY: run mnist fashion_mnist penguin penguin-run test setup build asan-test bench fuzz format clean

setup:
	@scripts/setup.sh

build: setup
	@[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# The main job: examples/mnist, the TFX guide's pipeline (11 components, both
# models trained, evaluated, blessed and pushed; cached when nothing changed),
# then the two models side by side. MNIST_ROOT moves the pipeline root.
MNIST_ROOT ?= out/mnist/pipeline
run: build mnist

# The pipeline and the table alone, on an existing build (BUILD_DIR).
mnist:
	@$(EDGEPIPE) run $(BUILD_DIR)/examples/mnist_pipeline.so --root $(MNIST_ROOT)
	@$(EDGEPIPE) compare --root $(MNIST_ROOT)

# examples/fashion_mnist (issue 6): the small CNN, its float32, dynamic-range,
# float16 and int8 TFLite rewrites, all five in one Evaluator, then one row per
# model. FMNIST_ROOT moves the pipeline root; EDGEPIPE_FMNIST_TRAIN_STEPS
# (default 1876 = 2 epochs at batch 64) shortens training.
FMNIST_ROOT ?= out/fashion_mnist/pipeline
fashion_mnist: build
	@$(EDGEPIPE) run $(BUILD_DIR)/examples/fashion_mnist_pipeline.so --root $(FMNIST_ROOT)
	@$(EDGEPIPE) compare --root $(FMNIST_ROOT) --evaluators Evaluator

# examples/penguin: Palmer penguins CSV (missing values), z-scores,
# a 3-class MLP and its TFLite rewrite, evaluated by island and sex, pushed.
# PENGUIN_ROOT moves the pipeline root.
PENGUIN_ROOT ?= out/penguin/pipeline
penguin: build penguin-run

# The penguin pipeline and its table alone, on an existing build (BUILD_DIR).
penguin-run:
	@$(EDGEPIPE) run $(BUILD_DIR)/examples/penguin_pipeline.so --root $(PENGUIN_ROOT)
	@$(EDGEPIPE) compare --root $(PENGUIN_ROOT) --evaluators Evaluator.penguin \
	  --evaluators Evaluator.penguin_lite --label-key species_xf

test: build
	@ctest --preset release

asan-test: setup
	@[ -f build/asan/build.ninja ] || cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ctest --preset asan

# Benchmarks with their peers: setup --bench adds the benchmark-only ones
# (LibTorch); configuring again picks LibTorch up if it was installed since.
bench:
	@scripts/setup.sh --bench
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@bench/run.sh

# The TFLite loader fuzzer (clang, ASan + UBSan) for FUZZ_SECONDS, seeded with
# the small fixture models; new inputs go to build/fuzz/corpus, findings to
# build/fuzz/findings.
FUZZ_SECONDS ?= 60
SHARED_DIR ?= $(abspath ../shared)
fuzz: setup
	@[ -f build/fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@mkdir -p build/fuzz/corpus build/fuzz/seeds build/fuzz/findings
	@find $(SHARED_DIR)/fixtures/tflite -name '*.tflite' -size -100k -exec cp -f {} build/fuzz/seeds/ \;
	@build/fuzz/bin/tflite_loader_fuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  -rss_limit_mb=3072 -malloc_limit_mb=3072 -max_len=65536 -print_final_stats=1 \
	  -artifact_prefix=build/fuzz/findings/ build/fuzz/corpus build/fuzz/seeds

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build out
