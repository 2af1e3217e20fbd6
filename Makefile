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

.PHONY: setup system-deps run test test-generator test-generated bench clean

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

# Generate, build and validate the bundled ops; print the op x check summary.
run: setup
	$(BIN)/grimoire cast "conjure(run_tests)"

# The whole suite: the generator's own tests (specs, checks, rendering, CLI, PLUnit) and the
# generated tests of every op.
test: setup
	$(BIN)/python -m pytest tests generated_ops/tests -q -rs

bench: setup
	$(BIN)/grimoire bench --device cpu

clean:
	rm -rf generated_ops/_build .grimoire benchmarks/reports
