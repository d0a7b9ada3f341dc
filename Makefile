# grants – two commands do all set-up on a fresh machine:
#   make demo   install, migrate, seed demo data, serve web + worker on http://127.0.0.1:5000
#               (make demo PORT=5055 to serve on another port)
#               (its PDFs sealed by a demo CA and a local TSA: docs/integration.md)
#   make test   install test requirements and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in the demo's emails lead to where the demo answers, unless an address is configured.
DEMO_PUBLIC_URL = $${GRANTS_PUBLIC_URL:-http://$(HOST):$(PORT)}
# Root runs apt-get directly; anyone else through sudo (which asks for a password).
SUDO = $$( [ "$$(id -u)" = 0 ] || echo sudo )
export FLASK_APP := wsgi
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages the app needs at run time: WeasyPrint (Pango, HarfBuzz subset, fonts) and the
# workflow pictures (Graphviz's dot). The tests add a browser and poppler (pdftoppm, to look at
# PDFs as images).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
                   fonts-liberation2 graphviz
TEST_SYSTEM_PACKAGES := chromium poppler-utils

.PHONY: demo test test-pg bench install install-dev system-deps browser-deps translations \
        migrate seed worker serve check check-runtime lint clean

demo: system-deps install translations
	GRANTS_DEMO=1 GRANTS_PUBLIC_URL=$(DEMO_PUBLIC_URL) $(BIN)/flask db upgrade
	GRANTS_DEMO=1 GRANTS_PUBLIC_URL=$(DEMO_PUBLIC_URL) $(BIN)/flask demo seed
	GRANTS_DEMO=1 GRANTS_PUBLIC_URL=$(DEMO_PUBLIC_URL) $(BIN)/flask demo run --host $(HOST) --port $(PORT)

test: system-deps browser-deps install-dev translations
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir . $(PYTEST_ARGS)

bench: system-deps install-dev translations
	$(BIN)/python -m bench

# --- installation ---------------------------------------------------------------------------
# Python 3.11 or newer; Debian and Ubuntu ship `venv` separately (python3-venv), installed here
# when it is missing.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "grants needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)." \
	       "Run: make demo PYTHON=python3.11 (or newer)"; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  pkg="python$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"; \
	  echo "Installing system package: $$pkg (Python's venv module)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$pkg; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Installs the Debian packages above that are missing (nothing when all are there): as root
# directly, otherwise through sudo.
define apt_install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "Missing system packages:$$missing. This is not Debian or Ubuntu: install them" \
	         "(or their equivalents) with your system's package manager, then run make again."; \
	    exit 1; \
	  fi; \
	  if [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then \
	    echo "Missing system packages:$$missing. Install them as root:" \
	         "apt-get install --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-deps:
	$(call apt_install_missing,$(SYSTEM_PACKAGES))

browser-deps:
	$(call apt_install_missing,$(TEST_SYSTEM_PACKAGES))

translations: install
	@$(BIN)/pybabel compile -d grants/translations -D messages

# Refresh the catalogue after changing user-facing strings, then translate new entries.
extract-messages: install
	$(BIN)/pybabel extract -F grants/translations/babel.cfg -k _l -k lazy_gettext -o grants/translations/messages.pot .
	$(BIN)/pybabel update -i grants/translations/messages.pot -d grants/translations -D messages --no-fuzzy-matching

# --- day-to-day ------------------------------------------------------------------------------
migrate: install
	$(BIN)/flask db upgrade

seed: install
	GRANTS_DEMO=1 $(BIN)/flask demo seed

worker: install
	$(BIN)/flask worker --with-scheduler

check: install
	$(BIN)/flask workflow check

# ruff (pyproject.toml) and the layer contracts (import-linter, docs/architecture.md).
lint: install-dev
	$(BIN)/ruff check grants tests bench wsgi.py .ci
	$(BIN)/lint-imports --no-cache

# requirements.txt alone is enough to import every module, build the app and list every flask
# command: checked in a virtualenv of its own that has nothing else installed (CI runs this).
RUNTIME_VENV := build/runtime-venv
check-runtime:
	rm -rf $(RUNTIME_VENV)
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(RUNTIME_VENV)/bin/python .ci/check_runtime.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts build
