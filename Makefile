# labelfree: the two commands of the README are `make demo` and `make test`.
# Each installs what it needs (llama.cpp v0.5.0 libraries, pinned Go tools)
# into a cache outside the repository, and is idempotent.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CACHE        ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/labelfree
TOOLS        := $(CACHE)/tools
STATICCHECK_VERSION := v0.8.2
STATICCHECK  := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
# An execution count, not a duration: with a duration Go 1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" at the
# deadline (go.dev/issue/75804, fixed in Go 1.27). About 20 s here.
FUZZTIME     ?= 1000000x
DEMO_DIR     ?= out/demo
# The PerturbQA files: the shared copy when there is one, else downloaded.
DEMO_DATA    ?= $(if $(wildcard ../shared/perturbqa/k562-de.csv),--data ../shared/perturbqa)

# Which llama.cpp to install and build against: LLAMA_FLAGS=--cuda for the
# prebuilt CUDA backend, --from-source [--cuda] to build it (see the script).
LLAMA_FLAGS  ?=
LLAMA_PREFIX := $(shell scripts/install-llama.sh $(LLAMA_FLAGS) --print-prefix)
export PKG_CONFIG_PATH := $(LLAMA_PREFIX)/lib/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))
# Go's build cache does not notice a change of PKG_CONFIG_PATH alone (golang/go#24544);
# naming the prefix in CGO_LDFLAGS (an rpath that llama.pc also sets) makes a
# switch of llama.cpp variant rebuild the binding.
export CGO_LDFLAGS := -g -O2 -Wl,-rpath,$(LLAMA_PREFIX)/lib

.PHONY: help
help:
	@echo "make demo    run the whole pipeline on a toy model and 50 PerturbQA questions (out/demo)"
	@echo "make test    lint and run every test (installs llama.cpp and tools as needed)"
	@echo "make bench   run the benchmarks"
	@echo "make llama   install llama.cpp v0.5.0 only (scripts/install-llama.sh)"
	@echo "make server  build llama.cpp's llama-server for the HTTP backend's tests"
	@echo "make setup-train  create the QLoRA training venv from finetune/requirements.txt (needs PyPI; training needs a CUDA GPU)"

.PHONY: llama
llama:
	@scripts/install-llama.sh $(LLAMA_FLAGS)

$(STATICCHECK):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS)/bin-$(STATICCHECK_VERSION) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(TOOLS)/bin-$(STATICCHECK_VERSION)/staticcheck $@

.PHONY: tools
tools: $(STATICCHECK)

.PHONY: fmt
fmt:
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: llama
	go vet ./...
	CGO_ENABLED=0 go vet ./...

.PHONY: lint
lint: llama tools
	@unformatted=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (run make fmt)"; exit 1; fi
	go vet ./...
	CGO_ENABLED=0 go vet ./...
	$(STATICCHECK) ./...
	go mod tidy -diff
	cd gemini && go vet ./... && $(STATICCHECK) ./... && go mod tidy -diff

# llama.cpp's llama-server, built from the same pinned source against the
# same libraries as the binding (scripts/llamacpp-bench.sh --linked server;
# a few minutes once, then cached): the llama package tests the HTTP backend
# sampling/openai against it. With LLAMA_FLAGS=--from-source, whose prefix has
# no libllama-common to link against, SERVER_BUILD is empty: a static CMake
# build of the server instead (longer).
SERVER_BUILD ?= $(if $(findstring --from-source,$(LLAMA_FLAGS)),,--linked)
LLAMA_SERVER := $(shell scripts/llamacpp-bench.sh $(SERVER_BUILD) server --print-dir)/llama-server

.PHONY: server
server: llama
	@scripts/llamacpp-bench.sh $(SERVER_BUILD) server >/dev/null

# Debian's chromium, for the annotation page's browser test (annotate/web),
# installed with apt-get when missing (as root; the package lists are
# fetched only if the first try fails).
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

.PHONY: browser
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ $(APT_INSTALL) chromium >/dev/null 2>&1 || { apt-get update >/dev/null && $(APT_INSTALL) chromium >/dev/null; }; }; } || \
	{ echo "chromium is needed for the annotation page's browser test: install it (Debian: apt-get install chromium)"; exit 1; }

.PHONY: test
test: lint server browser
	LABELFREE_REQUIRE_BROWSER=1 LABELFREE_LLAMA_SERVER=$(LLAMA_SERVER) go test -race ./...
	cd gemini && go test -race ./...
	@command -v python3 >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get install -y --no-install-recommends python3 >/dev/null; } || \
		{ echo "python3 is needed for finetune's tests: install it (Debian: apt-get install python3)"; exit 1; }
	PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s finetune
	go test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./internal/gguf

# The Python environment of finetune/qlora.py: a venv at the path that
# finetune.VenvDir returns, so the Go package finds it. pip needs PyPI (and
# the CUDA wheels' index for a CUDA other than torch's default); training
# needs a CUDA GPU, while qlora.py --check needs only python3.
VENV_TRAIN   := $(CACHE)/venv-train

.PHONY: setup-train
setup-train: $(VENV_TRAIN)/.requirements.stamp

$(VENV_TRAIN)/.requirements.stamp: finetune/requirements.txt
	python3 -m venv $(VENV_TRAIN)
	$(VENV_TRAIN)/bin/python -m pip install --upgrade pip
	$(VENV_TRAIN)/bin/python -m pip install -r finetune/requirements.txt
	$(VENV_TRAIN)/bin/python -c 'import torch, transformers, peft, trl, bitsandbytes; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
	@touch $@

BENCH_MODEL  ?= $(CACHE)/models/qwen3-0.6b-q4_k_m.gguf
BENCH_COUNT  ?= 3
# Which build of llama.cpp's tools to compare with: --linked compiles them
# against the libraries the binding loads (same code on both sides); empty
# means their own static -march=native build.
BENCH_TOOLS  ?= --linked

# Benchmarks run on the tiny model and on a generated Qwen3-0.6B-shape Q4_K_M
# model (real shapes and vocabulary, random weights; made once, ~1 minute),
# side by side with llama.cpp's own tools built from the same pinned source
# (scripts/llamacpp-bench.sh; built once, under a minute with --linked, a few
# minutes without). The filter benchmarks write a 1,000,000-group trace file
# (4.6 GB, and its score file, 0.4 GB) to TMPDIR once per run and remove it.
# Results: out/bench.txt.
.PHONY: bench
bench: llama
	@mkdir -p bin out $(dir $(BENCH_MODEL))
	go build -o bin/labelfree ./cmd/labelfree
	bin/labelfree model gen --shape qwen3-0.6b --seed 1 --f16 --quantize Q4_K_M \
		--vocab $(LLAMA_PREFIX)/src/models/ggml-vocab-qwen2.gguf --out $(BENCH_MODEL)
	tools=$$(scripts/llamacpp-bench.sh $(BENCH_TOOLS) build | tail -n 1); \
	export LABELFREE_BENCH_MODEL=$(BENCH_MODEL) LABELFREE_LLAMACPP_TOOLS=$$tools; \
	{ go test -run '^$$' -bench . -count 5 ./uncertainty ./sampling ./perturb && \
	  go test -run '^$$' -bench . -count 5 -timeout 2h ./score ./filter && \
	  go test -run '^$$' -bench 'RowStats|LogSoftmax' -count 5 ./llama && \
	  go test -run '^$$' -bench 'RunOverhead' -count 3 ./llama && \
	  go test -run '^$$' -bench 'PromptLogProbs|GeneratePhases|GenerateBatched|Score$$' -benchtime 1x \
		-count $(BENCH_COUNT) -timeout 2h ./llama && \
	  go test -run '^TestConfigDeviation$$' -v ./llama; } | tee out/bench.txt

.PHONY: demo
demo: llama
	@mkdir -p bin $(DEMO_DIR)
	go build -o bin/labelfree ./cmd/labelfree
	bin/labelfree model gen --shape toy --seed 7 --force --out $(DEMO_DIR)/toy.gguf
	bin/labelfree logprobs --model $(DEMO_DIR)/toy.gguf --reference --top 3 \
		--prompt $$'<|im_start|>user\nIs IRF1 differentially expressed when STAT1 is knocked down?<|im_end|>\n<|im_start|>assistant\n<think>'
	bin/labelfree run --out $(DEMO_DIR) --model $(DEMO_DIR)/toy.gguf $(DEMO_DATA)
	@echo "report: $(DEMO_DIR)/report/index.md   SFT data: $(DEMO_DIR)/sft/"
