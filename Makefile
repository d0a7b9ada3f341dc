# grants – two commands do all set-up on a fresh machine:
#   make demo   install, migrate, seed demo data, serve web + worker on http://127.0.0.1:5000
#   make test   install test requirements and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages WeasyPrint, the workflow pictures and the browser tests need.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
                   fonts-liberation2 graphviz poppler-utils
BROWSER_PACKAGES := chromium

.PHONY: demo test test-pg bench install install-dev system-deps browser-deps translations \
        migrate seed worker serve check lint clean

demo: system-deps install translations
	GRANTS_DEMO=1 $(BIN)/flask db upgrade
	GRANTS_DEMO=1 $(BIN)/flask demo seed
	GRANTS_DEMO=1 $(BIN)/flask demo run

test: system-deps browser-deps install-dev translations
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir . $(PYTEST_ARGS)

bench: system-deps install-dev translations
	$(BIN)/python -m bench

# --- installation ---------------------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Installs the Debian packages above when one is missing (as root, or via sudo when available).
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES); }

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

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
