# Two commands on a fresh machine: `make run` and `make test`. Both install what is missing first
# (SWI-Prolog and nix-bin through apt, a .venv with the CPU torch wheel and this project) and are
# quick once set up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export COLUMNS ?= 120
# The CUDA compile check: a second venv with the CUDA build of torch compiles and links every CUDA
# source against the toolkit at CUDA_HOME, for sm_90, with no GPU (tests/test_cuda_compile.py).
CUDA_HOME ?= /usr/local/cuda
CUDA_VENV := .venv-cuda
CUDA_TORCH_SPEC ?= torch==2.14.1

.PHONY: setup setup-cuda system-deps run test test-generator test-generated bench clean

setup: system-deps $(VENV)/.installed

system-deps:
	@command -v swipl >/dev/null || { echo "installing SWI-Prolog (swi-prolog-nox)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq swi-prolog-nox >/dev/null; }
	@command -v nix-instantiate >/dev/null || { echo "installing nix-bin (to check flake.nix)"; \
	  $(SUDO) apt-get install -y -qq nix-bin >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nix-bin >/dev/null; }; }

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	@touch $@

setup-cuda:
	@if [ -x "$(CUDA_HOME)/bin/nvcc" ]; then $(MAKE) --no-print-directory $(CUDA_VENV)/.installed; \
	else echo "*** CUDA compile check SKIPPED: no CUDA toolkit at CUDA_HOME=$(CUDA_HOME) (no $(CUDA_HOME)/bin/nvcc)."; \
	  if [ "$$CI" = true ]; then echo "*** CI=true: the CUDA compile check must run here; failing."; exit 1; fi; fi

$(CUDA_VENV)/.installed:
	@test -x $(CUDA_VENV)/bin/python || $(PYTHON) -m venv $(CUDA_VENV)
	$(CUDA_VENV)/bin/python -m pip install -q --disable-pip-version-check "$(CUDA_TORCH_SPEC)" ninja numpy
	@touch $@

# Generate, build and validate the bundled ops; print the per-op summary (failures first).
run: setup
	$(BIN)/grimoire cast "conjure(run_tests)"

# The whole suite: the generator's own tests (specs, checks, rendering, CLI, PLUnit, the CUDA
# compile check), the generated tests of every op and, collected under tests/, those of the spec-language
# conformance suite, tests/conformance/conformance_ops/tests (CUDA cases skip visibly without a GPU).
test: setup setup-cuda
	GRIMOIRE_CUDA_HOME=$(CUDA_HOME) $(BIN)/python -m pytest tests generated_ops/tests -q -rs

bench: setup
	$(BIN)/grimoire bench --device cpu

clean:
	rm -rf generated_ops/_build .grimoire benchmarks/reports
