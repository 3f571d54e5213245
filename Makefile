# rlft developer commands. `make help` lists them. Everything runs inside .venv, created on demand.
PYTHON_BOOT ?= python3.11
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
TORCH_PIN   := torch==2.13.0

.DEFAULT_GOAL := help
.PHONY: help install test test-slow test-all lint format train demo sweep bench clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the local CPU wheel (a bare `torch` would pull a multi-GB CUDA build)
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install rlft with its dev tools

test: $(STAMP)  ## run the test suite (~11 min on 2 cores; the slow end-to-end tests are test-slow)
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP)  ## the slow end-to-end tests: demo quick=true, benchmark smoke runs, a local Ray cluster, the examples, every algorithm (~17 min)
	RAY_USAGE_STATS_ENABLED=0 $(PY) -m pytest -q -m slow

test-all: $(STAMP)  ## both (what CI runs)
	RAY_USAGE_STATS_ENABLED=0 $(PY) -m pytest -q

lint: $(STAMP)  ## ruff (lint + format check) and mypy on rlft/ (CI runs it)
	$(VENV)/bin/ruff check rlft tests bench tools
	$(VENV)/bin/ruff format --check rlft tests bench tools
	$(VENV)/bin/mypy

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix rlft tests bench tools
	$(VENV)/bin/ruff format rlft tests bench tools

train: $(STAMP)  ## train PPO on the default env (pass ARGS="key=value ...")
	$(PY) -m rlft.train $(ARGS)

demo: $(STAMP)  ## the whole loop at small scale (~10 min): curriculum -> champion -> fine-tune -> promote -> export
	$(PY) -m rlft.demo $(ARGS)

sweep: $(STAMP)  ## a parallel sweep on local cores (joblib, one job per core): make sweep ARGS="hparams.lr=1e-4,3e-4"
	RAY_USAGE_STATS_ENABLED=0 $(PY) -m rlft.train -m hydra/launcher=joblib $(ARGS)

bench: $(STAMP)  ## benchmarks: writes JSON under bench/results/ and prints tables
	$(PY) bench/run_all.py

clean:  ## remove run outputs and caches (keeps .venv and champions/)
	rm -rf outputs multirun bench/results .pytest_cache examples/*/outputs
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
