# sfaudit: two commands that work on a fresh machine.
#   make demo   set up .venv and audit the bundled demo org (reports in reports/)
#   make test   set up .venv and run ruff, mypy --strict and pytest with coverage
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml plugins/acme-checks/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,fast]'
	$(BIN)/pip install --quiet -e plugins/acme-checks
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sfaudit demo -o reports

lint: $(STAMP)
	$(BIN)/ruff check sfaudit tests benchmarks plugins
	$(BIN)/ruff format --check sfaudit tests benchmarks plugins

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy plugins/acme-checks/sfaudit_acme_checks

pytest: $(STAMP)
	$(BIN)/pytest -n 2 --cov --cov-report=term $(PYTEST_ARGS)
	$(BIN)/pytest -n 2 plugins/acme-checks/tests

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/api_calls.py
	$(BIN)/python benchmarks/backup_bench.py --size-mb 200

clean:
	rm -rf $(VENV) reports/*.html reports/*.json reports/*.xml reports/*.md reports/*.csv reports/*.ics
