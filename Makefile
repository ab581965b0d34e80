VENV ?= .venv
PY := $(VENV)/bin/python
# Two installs: Vigil alone (make serve), and with the test toolchain, the dev extra (make test).
SERVE_STAMP := $(VENV)/.serve-installed
STAMP := $(VENV)/.installed
# GraphiQL's and the dashboard viewer's libraries (web/package-lock.json), installed by npm ci.
WEB_DEPS := web/node_modules/.package-lock.json
# The Node clients the suite drives (tests/e2e/node/package-lock.json): for make test only.
NODE_TEST_DEPS := tests/e2e/node/node_modules/.package-lock.json
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: serve test lint bench clean web test-mongo

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml setup.py infra/collectors/_scan.pyx | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml setup.py infra/collectors/_scan.pyx | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(SERVE_STAMP)

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

$(NODE_TEST_DEPS): tests/e2e/node/package.json tests/e2e/node/package-lock.json
	cd tests/e2e/node && npm ci --no-audit --no-fund

web: $(WEB_DEPS)

# The API needs Python only: without npm (or when npm ci fails) Vigil serves it, and its
# start message and pages say that GraphiQL and the dashboard pages need `make web`.
serve: $(SERVE_STAMP)
ifeq ($(NPM),)
	@echo "npm not found: serving the API; GraphiQL and the dashboard pages need Node.js, npm and 'make web'"
else
	@$(MAKE) --no-print-directory web || echo "npm ci failed: serving the API; GraphiQL and the dashboard pages need 'make web'"
endif
	$(VENV)/bin/vigil serve

# Two workers, a file to each (its module fixtures are shared): most tests wait on real
# servers, so two halve the suite's time on two cores.
test: $(STAMP) $(WEB_DEPS) $(NODE_TEST_DEPS)
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The store contract and the checks only a real server can make, against a MongoDB replica
# set: make test-mongo VIGIL_TEST_MONGO_URL=mongodb://user:pass@host:27017/?replicaSet=rs0
test-mongo: $(STAMP)
	@test -n "$(VIGIL_TEST_MONGO_URL)" || { echo "set VIGIL_TEST_MONGO_URL"; exit 2; }
	VIGIL_TEST_MONGO_URL='$(VIGIL_TEST_MONGO_URL)' $(PY) -m pytest -q -rs tests/contract -k "mongo-real or test_mongo_server"

# `make bench` runs every benchmark; `make bench analytics` (or any names) runs those.
BENCH_NAMES := $(filter-out bench,$(MAKECMDGOALS))
bench: $(STAMP)
	$(PY) -m bench $(BENCH_NAMES)
ifneq ($(filter bench,$(MAKECMDGOALS)),)
$(BENCH_NAMES):
	@:
endif

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache
