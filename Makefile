# Signoff: the two commands a fresh machine needs are `make demo` and `make test`.
# Each installs what it needs: uv, the Python environment, GOV.UK Frontend assets, Chromium.

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY_STAMP := .venv/.synced
# The council's build of GOV.UK Frontend (Sass compiled with the council's font stack; no GDS
# Transport font, no crown), Frontend's JavaScript, Signoff's own small files and Swagger UI.
ASSETS := static/assets/govuk-frontend.min.css
ASSET_FILES := $(ASSETS) static/assets/govuk-frontend.min.js static/assets/signoff.js \
	static/assets/signoff-print.css static/assets/icons/signoff.svg \
	static/assets/icons/signoff-180.png \
	static/assets/swagger-ui/swagger-ui-bundle.js static/assets/swagger-ui/swagger-ui.css

.PHONY: demo test install assets browser lint bench clean

demo: install assets
	$(UV) run signoff demo

# Two workers (pytest-xdist); tests/conftest.py keeps the browser, server and flow tests on
# one of them, one at a time. Schemathesis gives its 28 fuzzed operations one test id, which
# xdist's grouping runs once: that module runs on its own, after. PYTEST_ARGS runs just those.
test: install assets browser
ifeq ($(PYTEST_ARGS),)
	$(UV) run pytest -n 2 --dist loadgroup --ignore=tests/api/test_openapi_fuzz.py
	$(UV) run pytest tests/api/test_openapi_fuzz.py
else
	$(UV) run pytest $(PYTEST_ARGS)
endif

install: $(PY_STAMP)

$(PY_STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || test -x $(UV) || python3 -m pip install --user --quiet 'uv>=0.5'
	$(UV) sync --frozen --compile-bytecode
	@touch $@

assets: $(ASSET_FILES)

# --ignore-scripts: no package needs an install script (sass's optional file watcher has prebuilt
# binaries; swagger-ui-dist's @scarf/scarf would otherwise report the install over the network).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# GOV.UK's font and crown files copied by builds before the council stylesheet are removed.
$(ASSETS): web_assets/govuk-frontend.scss web_assets/signoff.css node_modules/.package-lock.json
	mkdir -p $(@D)
	rm -rf static/assets/fonts static/assets/images static/assets/manifest.json \
	  static/assets/signoff.css
	node_modules/.bin/sass --pkg-importer=node --style=compressed --no-source-map \
	  --no-error-css --quiet-deps $< $@

static/assets/govuk-frontend.min.js: node_modules/.package-lock.json
	mkdir -p $(@D)
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $@

static/assets/swagger-ui/%: node_modules/.package-lock.json
	mkdir -p $(@D)
	cp node_modules/swagger-ui-dist/$* $@

static/assets/%: web_assets/%
	mkdir -p $(@D)
	cp $< $@

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded at run time).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# ruff formats the code (100 columns) and enforces the rules in pyproject.toml; mypy checks
# every package. The layer rules (what may import what) are tests: tests/platform/test_layers.py.
lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy core cli models services api flows

bench: install
	$(UV) run python bench/rfc_lifecycle.py
	$(UV) run python bench/decision_http.py
	$(UV) run python bench/page_http.py
	$(UV) run python bench/loop_stall.py
	$(UV) run python bench/outbox.py
	$(UV) run python bench/chase.py
	$(UV) run python bench/rag_summary.py

clean:
	rm -rf static var .pytest_cache

# Mutation testing of the rule modules (tests/mutation.py: which tests run against each module).
# mutmut mutates a copy under mutants/; SQLite only, no browser tests; not part of `make test`
# or CI. MODULES=services/platform/actors.py narrows it to one module. See docs/testing.md.
.PHONY: mutation
mutation: install
	$(UV) run python tests/mutation.py $(MODULES)
