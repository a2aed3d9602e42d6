# PixelRobustness — one-command set-up, tests, benchmark and demo.
SWIFT ?= swift
BIN := .build/release/pixelrobust

.PHONY: setup build release test test-slurm fuzz bench demo clean

## setup: install the Debian packages the build needs (idempotent; apt-get as root)
setup:
	@bash scripts/setup.sh

## build: debug build of everything
build: setup
	$(SWIFT) build

## release: optimized build of the pixelrobust tool
release: setup
	$(SWIFT) build -c release --product pixelrobust

## test: the whole test suite (the tool is built first: some tests run it as a process)
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## test-slurm: a real single-node Slurm (slurm-wlm, munge from Debian) runs 3-shard jobs via
## `pixelrobust slurm --submit`; merged results must equal single runs (root; about 2 minutes)
test-slurm: build
	bash scripts/slurm_test.sh .build/debug/pixelrobust

## fuzz: every parser under libFuzzer + AddressSanitizer, FUZZ_SECONDS (default 60) each
fuzz: setup
	bash scripts/fuzz.sh

## bench: engine benchmark, JSON medians to runs/bench.json and a table on stderr
bench: release
	@mkdir -p runs
	$(BIN) bench --summary --json runs/bench.json > /dev/null

## demo: the main job end to end on Fashion-MNIST under runs/demo/ (reuses a finished checkpoint)
demo: release
	bash scripts/demo.sh $(BIN) runs/demo

clean:
	rm -rf .build runs
