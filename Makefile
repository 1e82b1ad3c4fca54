# sfaudit: two commands that work on a fresh machine.
#   make demo   set up .venv and audit the bundled demo org (reports in reports/)
#   make test   set up .venv and run ruff, mypy --strict and pytest with coverage
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean system-deps compat future

$(STAMP): pyproject.toml plugins/acme-checks/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
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

# The browser tests drive Debian's chromium; the backup benchmark compares with unzip;
# `make future` moves the clock with faketime.
SYSTEM_DEPS := chromium unzip faketime
system-deps:
	@missing=""; for t in $(SYSTEM_DEPS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "make test needs$$missing: sudo apt-get install$$missing" >&2; exit 1; fi

pytest: $(STAMP) system-deps
	$(BIN)/pytest -n 2 --cov --cov-report=term $(PYTEST_ARGS)
	$(BIN)/pytest -n 2 plugins/acme-checks/tests

test: lint typecheck pytest

# The suite (without the browser tests) with the clock 400 days ahead: a test that reads
# the real date fails here, not in a user's hands next month. Threads waiting with a
# timeout (marker timed_wait) hang under libfaketime 0.9, so they are left out here only.
future: $(STAMP) system-deps
	faketime -f '+400d' $(BIN)/pytest -n 2 -q -p no:cacheprovider -m "not browser and not timed_wait" tests

# The suite (without the browser tests) on every other supported Python found here.
COMPAT_PYTHONS ?= 3.10 3.12 3.13
compat:
	@for v in $(COMPAT_PYTHONS); do \
	  py=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v.*/bin/python 2>/dev/null | head -n 1); \
	  [ -n "$$py" ] || py=$$(command -v python$$v || true); \
	  if [ -z "$$py" ] || ! $$py -c 'import venv' 2>/dev/null; then \
	    echo "compat: python$$v not found, not tested"; continue; fi; \
	  echo "compat: $$($$py --version)"; \
	  $$py -m venv .venv-$$v && .venv-$$v/bin/pip install --quiet --upgrade pip && \
	  .venv-$$v/bin/pip install --quiet -e '.[test]' -e plugins/acme-checks && \
	  .venv-$$v/bin/python -m pytest -n 2 -q -p no:cacheprovider -m "not browser" tests || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python benchmarks/api_calls.py
	$(BIN)/python benchmarks/backup_bench.py --size-mb 200

clean:
	rm -rf $(VENV) .venv-3.* reports/*
