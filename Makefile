# CareLedger build targets. Everything runs from the project virtualenv in .venv.
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install run test lint format lock bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	touch $(VENV)/.installed

# The console's browser assets (GOV.UK Frontend, Swagger UI, ReDoc, axe-core), pinned by
# package-lock.json and served by the app itself: no CDN.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch node_modules/.installed

install: $(VENV)/.installed node_modules/.installed

run: install
	$(VENV)/bin/careledger serve --demo-if-empty

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Re-resolve every dependency (runtime + dev) in a throwaway venv and pin the result.
lock:
	@set -e; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	python3 -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/pip" install -q -e '.[dev]'; \
	{ \
	  echo '# Fully pinned lock of every runtime + dev package installed by `make install`.'; \
	  echo '# Generated from pyproject.toml in a fresh venv (pip freeze --exclude-editable).'; \
	  echo '# Do not edit by hand: regenerate with `make lock`.'; \
	  "$$tmp/venv/bin/pip" freeze --exclude-editable; \
	} > constraints.txt.tmp; \
	mv constraints.txt.tmp constraints.txt; \
	echo "constraints.txt: $$(grep -vc '^#' constraints.txt) packages pinned"

bench: install
	$(VENV)/bin/careledger bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
	rm -f careledger.db*
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
