# `make run`  : set up a virtualenv, load the plan into SQLite, print a login, serve on :8000
# `make test` : install what the tests need (incl. Debian's chromium) and run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast e2e install install-test browser lint typecheck ldap-build ldap-server

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python ldap-build
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python ldap-build
	$(BIN)/pip install -q -r requirements-test.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_plan
	$(BIN)/python manage.py create_dev_login
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Browser tests drive Debian's chromium; Playwright cannot download browsers here.
# The print tests also need LibreOffice (xlsx -> PDF), poppler (pdftotext, pdfinfo) and a
# Japanese font, so that text is laid out (and wraps) as it does on paper.
BROWSER_PACKAGES := chromium libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-ipafont-gothic
BROWSER_TOOLS := /usr/bin/chromium /usr/bin/soffice /usr/bin/pdftotext /usr/bin/pdfinfo /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
browser:
	@for f in $(BROWSER_TOOLS); do test -e $$f || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null; }; \
	  else sudo apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null; fi; fi
	@for f in $(BROWSER_TOOLS); do test -e $$f || { echo "$$f が見つかりません ($(BROWSER_PACKAGES))"; exit 1; }; done

# Directory login (workgroups/directory.py): python-ldap compiles against OpenLDAP's and
# Cyrus SASL's headers; the tests start Debian's slapd (tests/ldap_server.py). slapd is for
# the tests only: never on the portal's server.
LDAP_BUILD_PACKAGES := libldap2-dev libsasl2-dev
LDAP_BUILD_FILES := /usr/include/ldap.h /usr/include/sasl/sasl.h
LDAP_SERVER_PACKAGES := slapd ldap-utils
LDAP_SERVER_FILES := /usr/sbin/slapd /usr/sbin/slapadd /etc/ldap/schema/inetorgperson.schema
define apt_ensure
	@for f in $(2); do test -e $$f || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q $(1) >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $(1) >/dev/null; }; \
	  else sudo apt-get install -y -q $(1) >/dev/null; fi; fi
	@for f in $(2); do test -e $$f || { echo "$$f が見つかりません ($(1))"; exit 1; }; done
endef
ldap-build:
	$(call apt_ensure,$(LDAP_BUILD_PACKAGES),$(LDAP_BUILD_FILES))
ldap-server:
	$(call apt_ensure,$(LDAP_SERVER_PACKAGES),$(LDAP_SERVER_FILES))

test: install-test browser ldap-server
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

# The suite without the tests marked `slow` (pyproject.toml): under half the time, for the
# edit-test loop; `make test` (and CI) still runs everything
test-fast: install-test
	$(BIN)/python -m pytest -m "not slow"

# Only the real-browser tests (Playwright + Debian chromium); failures leave screenshots in test-artifacts/
e2e: install-test browser
	$(BIN)/python -m pytest tests/e2e

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Types: mypy with django-stubs, strict on the library, services, selectors and access modules
# (pyproject.toml [tool.mypy]); .ci/run runs it too
typecheck: install-test
	$(BIN)/mypy

# --- Installing without internet (LGWAN server; docs/deploy.md) ---------------------------
# `make bundle`          : on a machine that reaches the package registry: every wheel of
#                          requirements.txt for the server's Python/platform, the collected
#                          static files and the source at HEAD → dist/kahoku-dx-bundle-<version>.tar.gz
# `make install-offline` : in the unpacked bundle on the server: .venv from those wheels only
#                          (no index, no network), static files, migrate, check --deploy
.PHONY: bundle install-offline
bundle: install
	PYTHON=$(BIN)/python deploy/build-bundle.sh

install-offline:
	bash deploy/install-offline.sh
