# docker-credential-ecr-py: make demo | test | lint | bench | binary | faults
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv deps demo test lint bench binary clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## demo: a real `get` through the Docker SDK against the local AWS stand-in (no AWS account)
demo: $(STAMP)
	$(PY) scripts/demo.py

## deps: system packages for the end-to-end tests (skopeo, docker-registry, ...)
deps:
	scripts/install-system-deps.sh

## test: system packages, venv, then the whole suite (CI runs this)
test: deps $(STAMP)
	$(PY) -m pytest -q

## lint: ruff and strict mypy
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy

## bench: cached-get benchmark against the Go helper (when installed)
bench: $(STAMP)
	$(PY) benchmarks/bench_get.py

clean:
	rm -rf build dist $(VENV)
