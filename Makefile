# Signoff: the two commands a fresh machine needs are `make demo` and `make test`.
# Each installs what it needs: uv, the Python environment, GOV.UK Frontend assets, Chromium.

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY_STAMP := .venv/.synced
ASSETS := static/assets/govuk-frontend.min.css

.PHONY: demo test install assets browser lint bench clean

demo: install assets
	$(UV) run signoff demo

test: install assets browser
	$(UV) run pytest $(PYTEST_ARGS)

install: $(PY_STAMP)

$(PY_STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || test -x $(UV) || python3 -m pip install --user --quiet 'uv>=0.5'
	$(UV) sync --frozen
	@touch $@

assets: $(ASSETS) static/assets/signoff.css static/assets/signoff-print.css

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(ASSETS): node_modules/.package-lock.json
	mkdir -p static/assets
	cp -r node_modules/govuk-frontend/dist/govuk/assets/. static/assets/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css static/assets/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/assets/

static/assets/%.css: web_assets/%.css
	mkdir -p static/assets
	cp $< $@

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded at run time).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Code is formatted by hand to 100 columns; ruff enforces the rules in pyproject.toml.
lint: install
	$(UV) run ruff check .
	$(UV) run mypy core services

bench: install
	$(UV) run python bench/rfc_lifecycle.py
	$(UV) run python bench/decision_http.py
	$(UV) run python bench/outbox.py

clean:
	rm -rf static var .pytest_cache
