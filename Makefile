# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
UV_VERSION := 0.13.9
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
export SPARK_OPERATOR_CRD ?= $(abspath ../shared/reference/spark-operator/v2.5.2/sparkoperator.k8s.io_sparkapplications.yaml)
export EKS_DATA_REFERENCE ?= $(abspath ../shared/reference)

.PHONY: venv demo test lint typecheck docs pytest bench campaign lock clean

venv: $(STAMP)

# The environment is the lock file, exactly: `uv pip sync` removes anything the lock does not name.
$(STAMP): requirements/constraints.txt setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync -q --python $(BIN)/python requirements/constraints.txt
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	$(UV) pip install -q --python $(BIN)/python "uv==$(UV_VERSION)"
	touch $@

demo: venv
	cd $(CURDIR) && $(BIN)/python scripts/demo.py

test: venv lint typecheck docs pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

docs: venv
	AIRFLOW_HOME=$$(mktemp -d) AIRFLOW__CORE__LOAD_EXAMPLES=False $(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

pytest: venv
	$(BIN)/pytest -q -p no:cacheprovider

bench: venv
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_dag_parse.py
	$(BIN)/python benchmarks/bench_emr_serverless_triggers.py

# The full fault campaign (docs/reliability.md); `make test` runs a small one. E.g. ARGS="--jobs 200".
campaign: venv
	$(BIN)/python benchmarks/bench_campaign.py $(ARGS)

# Regenerate the lock after changing dependencies in setup.cfg.
lock: venv
	$(UV) pip compile -q --python-version 3.11 setup.cfg --extra test --extra docs --extra local -o requirements/constraints.txt

clean:
	rm -rf $(VENV) docs/_build .mypy_cache .ruff_cache
