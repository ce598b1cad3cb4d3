# SBNLab. A newcomer needs two commands:
#   make exp-sbn-gs   # the paper's Gumbel-Softmax run, end to end
#   make test         # the test suite
# Every target installs its own prerequisites through `make setup`.

SWIFT   ?= swift
BIN     := .build/release/sbnlab
DATA    := data/binarized_mnist.h5
EXPERIMENTS := $(patsubst experiments/%.yaml,%,$(wildcard experiments/*.yaml))

.PHONY: setup build data test format format-check fuzz bench bench-pytorch list-experiments clean slurm-up slurm-down tensorboard $(addprefix exp-,$(EXPERIMENTS))

setup:
	@bash scripts/setup.sh

# TensorBoard on a run or sweep folder (each run writes its event files as it trains):
# make tensorboard RUN=results/sbn-gs [PORT=6006]
tensorboard: setup
	@test -n "$(RUN)" || { echo "usage: make tensorboard RUN=<run or sweep folder> [PORT=6006]" >&2; exit 2; }
	python3 -m tensorboard.main --logdir "$(RUN)" --host 127.0.0.1 --port $(or $(PORT),6006)

# The code version is recorded beside the executable at build time (SBNStorage/Provenance.swift).
VERSION_FILE = .build/release/sbnlab.version
# The commit, "-dirty" if tracked files outside results/ differ from it (a committed table.md or
# summary.h5 being rewritten by a sweep does not change the code that runs).
define record_version
	@mkdir -p .build/release && { v=$$(git describe --always --abbrev=12 2>/dev/null || echo unknown); \
	  if [ -n "$$(git status --porcelain --untracked-files=no -- . ':(exclude)results' 2>/dev/null)" ]; then v=$$v-dirty; fi; \
	  echo $$v; } > $(VERSION_FILE)
endef

build: setup
	$(SWIFT) build -c release --product sbnlab
	$(record_version)

$(BIN): setup
	$(SWIFT) build -c release --product sbnlab
	$(record_version)

# The dataset is rebuilt only when missing; `sbnlab data` verifies every input's sha256.
data: $(DATA)
$(DATA): | build
	$(BIN) data --output $(DATA)

# Thresholded original MNIST, the ARM paper's data (experiments/sbn-arm*-threshold.yaml).
THRESHOLD_DATA := data/mnist_threshold.h5
$(THRESHOLD_DATA): | build
	$(BIN) data --source mnist --binarize threshold --output $(THRESHOLD_DATA)
exp-sbn-arm-threshold exp-sbn-arm-long-threshold: $(THRESHOLD_DATA)

# Grey-level MNIST with labels, binarised afresh by the semi-supervised (m2) runs (experiments/ssl-*.yaml)
# and the VAEs on dynamic MNIST (experiments/*-dynamic.yaml).
GREY_DATA := data/mnist_grey.h5
$(GREY_DATA): | build
	$(BIN) data --source mnist --binarize grey --output $(GREY_DATA)
$(filter exp-ssl-% exp-sweep-ssl-% exp-%-dynamic,$(addprefix exp-,$(EXPERIMENTS))): $(GREY_DATA)

# The layout of every Swift file is swift-format's, configured by .swift-format (formatting only:
# 4 spaces, 130 columns). `make format` rewrites; `make test` fails on a file it would change.
SWIFT_SOURCES = Sources Tests Fuzz Benchmarks/Benchmarks Package.swift
format:
	$(SWIFT) format format -i -r --configuration .swift-format $(SWIFT_SOURCES)
format-check:
	$(SWIFT) format lint -r --strict --configuration .swift-format $(SWIFT_SOURCES)

test: setup format-check
	$(record_version)
	$(SWIFT) test -c release

# libFuzzer on the readers of files SBNLab did not write (Fuzz/, scripts/fuzz.sh): FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: build $(DATA)
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Any experiments/<name>.yaml runs as `make exp-<name>`: a single run, or with a sweep: section a
# sweep over JOBS parallel processes. Both are resumable: a rerun continues or reports.
# EPOCHS=n shortens every run; ARGS passes more options (e.g. ARGS="--set data.train_limit=5000 --out results/quick").
JOBS ?= 2
SETS = $(if $(EPOCHS),--set epochs=$(EPOCHS))
$(addprefix exp-,$(EXPERIMENTS)): exp-%: build $(DATA)
	@if grep -q '^sweep:' experiments/$*.yaml; then \
	  echo "$(BIN) sweep experiments/$*.yaml --jobs $(JOBS) $(SETS) $(ARGS)"; \
	  $(BIN) sweep experiments/$*.yaml --jobs $(JOBS) $(SETS) $(ARGS); \
	else \
	  echo "$(BIN) run experiments/$*.yaml --resume $(SETS) $(ARGS)"; \
	  $(BIN) run experiments/$*.yaml --resume $(SETS) $(ARGS); \
	fi

list-experiments: build
	@$(BIN) list

# `sbnlab bench`: each path beside its gemm-only time, in one process (the README's Speed table);
# then ordo-one/benchmark (Benchmarks/, its own package) for per-step allocation counts.
bench: build $(DATA)
	$(BIN) bench --out bench.md
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark $(BENCH_ARGS)

# Removes build products only; results/ and data/ are never deleted by make.
clean:
	rm -rf .build Benchmarks/.build

# The same task in plain PyTorch on this machine (installs torch if missing), for comparison.
bench-pytorch: $(DATA)
	@python3 -c "import torch" 2>/dev/null || python3 -m pip install -q torch
	python3 scripts/pytorch_reference.py --data $(DATA) --model sbn
	python3 scripts/pytorch_reference.py --data $(DATA) --model vae

# A real single-node SLURM cluster on this machine (root; installs slurm-wlm and munge when
# missing), for `sbnlab sweep --executor slurm` and the SLURM tests; the same script .ci/run uses.
slurm-up:
	scripts/slurm-up.sh

slurm-down:
	scripts/slurm-down.sh
