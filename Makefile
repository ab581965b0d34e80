VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The dashboard viewer's libraries (web/package-lock.json), installed by npm ci.
WEB_DEPS := web/node_modules/.package-lock.json

.PHONY: serve test lint bench clean test-mongo

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

# The store contract and the checks only a real server can make, against a MongoDB replica
# set: make test-mongo VIGIL_TEST_MONGO_URL=mongodb://user:pass@host:27017/?replicaSet=rs0
test-mongo: $(STAMP)
	@test -n "$(VIGIL_TEST_MONGO_URL)" || { echo "set VIGIL_TEST_MONGO_URL"; exit 2; }
	VIGIL_TEST_MONGO_URL='$(VIGIL_TEST_MONGO_URL)' $(PY) -m pytest -q -rs tests/contract -k "mongo-real or test_mongo_server"

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache
