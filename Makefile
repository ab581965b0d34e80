VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The dashboard viewer's libraries (web/package-lock.json), installed by npm ci.
WEB_DEPS := web/node_modules/.package-lock.json

.PHONY: serve test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

serve: $(STAMP) $(WEB_DEPS)
	$(VENV)/bin/vigil serve

test: $(STAMP) $(WEB_DEPS)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# `make bench alerts anomaly` runs the benchmarks named (the goals after `bench`).
BENCH_NAMES := $(filter-out bench,$(MAKECMDGOALS))
bench: $(STAMP)
	$(PY) -m bench $(BENCH_NAMES)
ifeq (bench,$(firstword $(MAKECMDGOALS)))
$(BENCH_NAMES):
	@:
endif

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache
