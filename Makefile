# Veerkrachtige Buurten Zwijndrecht — two commands: `make report` and `make test`.
# Each creates .venv when missing (venv + uv, falling back to pip), installs from the
# hashed lock file with compiled bytecode and registers the Jupyter kernel.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KERNEL := veerkracht
STAMP := $(VENV)/.installed
AXE_VERSION := 4.14.1
AXE := $(VENV)/share/axe/axe.min.js
export PYTHONDONTWRITEBYTECODE :=
export MPLBACKEND := Agg
# Municipality: `make report GEMEENTE=GM0505` (empty: config/settings.yaml, GM0642).
# Its tables go to data/processed/<GM>/, its outputs to outputs/<GM>/.
GEMEENTE ?=
VK := $(BIN)/veerkracht $(if $(GEMEENTE),--gemeente $(GEMEENTE),)

.PHONY: help install report build resilience goals factsheets data kaart test lint bench bench-national lab lock clean

help:
	@echo "make report   build processed tables, analyses and fact sheets (offline)"
	@echo "              GEMEENTE=GM0505 for another municipality -> outputs/GM0505/"
	@echo "make test     run the test suite"
	@echo "make bench    time fact-sheet batch vs plain-Python floor -> outputs/bench.json"
	@echo "make bench-national  national wijk sheets on Dask, 1 and 2 workers vs fork pool (N=500)"
	@echo "              -> outputs/bench_national.json"
	@echo "make data     pull live CBS data into data/raw/cbs and buurt polygons into data/raw/pdok (network)"
	@echo "make lab      open JupyterLab on the '$(KERNEL)' kernel"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install -q --disable-pip-version-check uv 2>/dev/null; then \
	  $(BIN)/uv pip uninstall -q --python $(BIN)/python veerkracht-zwijndrecht 2>/dev/null; \
	  $(BIN)/uv pip install -q --python $(BIN)/python --compile-bytecode --require-hashes -r requirements.lock && \
	  $(BIN)/uv pip install -q --python $(BIN)/python --compile-bytecode --no-deps -e . ; \
	else \
	  $(BIN)/python -m pip install -q --require-hashes -r requirements.lock && \
	  $(BIN)/python -m pip install -q --no-deps -e . ; \
	fi
	@$(BIN)/python -m ipykernel install --prefix $(VENV) --name $(KERNEL) --display-name "Python (veerkracht)" >/dev/null
	@$(MAKE) --no-print-directory $(AXE)
	@touch $@

# axe-core (accessibility checks in the tests) from the npm registry, pinned.
$(AXE):
	@mkdir -p $(@D)
	@cd $(@D) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js && rm -f axe-core-$(AXE_VERSION).tgz

report: install
	$(VK) report

build: install
	$(VK) build

resilience: install
	$(VK) resilience

goals: install
	$(VK) goals

factsheets: install
	$(VK) factsheets

data: install
	$(VK) fetch
	$(VK) kaart

kaart: install
	$(VK) kaart

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

bench: install
	$(VK) bench

# National wijk sheets on a local Dask cluster (1 and 2 workers) vs the fork-pool runner, same run.
N ?= 500
REPEAT ?= 1
bench-national: install
	$(BIN)/veerkracht bench-national --n $(N) --repeat $(REPEAT)

lab: install
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(BIN)/jupyter lab --notebook-dir=notebooks

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf data/processed/GM* data/processed/*.parquet data/processed/*.gpkg data/processed/*.json outputs/*
