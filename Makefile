# Arenda — one dev loop: make run, make test, make lint, make bench.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint format bench fuzz messages check-migrations clean

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Arenda needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## make run: install, migrate, load the demo company once, start the web server and the task worker
run: $(STAMP)
	bin/arenda-run

## make test: the whole suite (DATABASE_URL chooses PostgreSQL; SQLite otherwise)
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench

## make fuzz: schemathesis against every API operation on a throw-away database; fails on a 5xx
## (docs/api-fuzz.md; DATABASE_URL chooses a PostgreSQL server, SQLite otherwise)
fuzz: $(STAMP)
	bin/api-fuzz

messages: $(STAMP)
	cd arenda && DEBUG=1 ../$(PY) ../manage.py makemessages -l ru -l en --no-obsolete --no-location --no-wrap
	cd arenda && DEBUG=1 ../$(PY) ../manage.py compilemessages

check-migrations: $(STAMP)
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
