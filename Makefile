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
	@echo "make report      alles offline: tabellen, veerkrachtindex, doelen, factsheets"
	@echo "                 -> outputs/<GM>/factsheets/index.html (GM0642 tenzij GEMEENTE=GMxxxx)"
	@echo "                 opnieuw draaien doet alleen wat door gewijzigde invoer of config verouderd is"
	@echo "make test        de tests (installeert eerst axe-core via npm voor de toegankelijkheidstest)"
	@echo "make build | resilience | goals | factsheets   een stap apart"
	@echo "make data        CBS-tabellen en PDOK-buurtpolygonen live ophalen (netwerk)"
	@echo "make kaart       alleen de PDOK-buurtpolygonen (netwerk; GEMEENTE=GMxxxx buiten de Drechtsteden)"
	@echo "make lab         JupyterLab op de kernel '$(KERNEL)'"
	@echo "make lint        ruff check en ruff format --check"
	@echo "make bench       factsheet-batch tegen plain-Python-vloer -> outputs/<GM>/bench.json"
	@echo "make bench-national  landelijke wijkbladen op Dask, 1 en 2 workers vs fork-pool (N=500)"
	@echo "                 -> outputs/bench_national.json"
	@echo "make clean       wis data/processed/ en outputs/ (alles wordt opnieuw gemaakt)"
	@echo "Alleen Python 3.11 en make zijn nodig voor report; npm alleen voor make test."

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@echo "install: 1/4 virtuele omgeving $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install -q --disable-pip-version-check uv 2>/dev/null; then \
	  $(BIN)/uv pip uninstall -q --python $(BIN)/python veerkracht-zwijndrecht 2>/dev/null; \
	  echo "install: 2/4 pakketten uit requirements.lock (eerste keer 1-3 min)"; \
	  $(BIN)/uv pip install -q --python $(BIN)/python --compile-bytecode --require-hashes -r requirements.lock && \
	  echo "install: 3/4 dit project (veerkracht, bewerkbaar)" && \
	  $(BIN)/uv pip install -q --python $(BIN)/python --compile-bytecode --no-deps -e . ; \
	else \
	  echo "install: 2/4 pakketten uit requirements.lock met pip (geen uv; eerste keer 3-6 min)"; \
	  $(BIN)/python -m pip install -q --require-hashes -r requirements.lock && \
	  echo "install: 3/4 dit project (veerkracht, bewerkbaar)" && \
	  $(BIN)/python -m pip install -q --no-deps -e . ; \
	fi
	@echo "install: 4/4 Jupyter-kernel '$(KERNEL)'"
	@$(BIN)/python -m ipykernel install --prefix $(VENV) --name $(KERNEL) --display-name "Python (veerkracht)" >/dev/null
	@touch $@
	@echo "install: klaar"

# axe-core (accessibility checks in the tests only) from the npm registry, pinned: a `make test`
# prerequisite, so `make report` needs no npm.
$(AXE):
	@command -v npm >/dev/null || { echo "fout: make test: npm ontbreekt; nodig om axe-core $(AXE_VERSION) te halen voor de toegankelijkheidstest (of zet VEERKRACHT_AXE_JS op een axe.min.js)"; exit 2; }
	@echo "test: axe-core $(AXE_VERSION) ophalen (npm)"
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

# The PDOK step runs whatever the CBS outcome; the exit status is non-zero if either failed.
data: install
	@rc=0; $(VK) fetch || rc=$$?; $(VK) kaart || rc=$$?; exit $$rc

kaart: install
	$(VK) kaart

# The suite on TEST_WORKERS pytest-xdist workers (0: one process); tests that share an expensive
# fixture stay on one worker (tests/conftest.py: XDIST_GROUPS).
TEST_WORKERS ?= 2
test: install $(if $(VEERKRACHT_AXE_JS),,$(AXE))
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope

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
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --universal -o requirements.lock

clean:
	rm -rf data/processed/GM* data/processed/*.parquet data/processed/*.gpkg data/processed/*.json outputs/*
