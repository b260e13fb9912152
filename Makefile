# Rapport — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo test lint install bench clean screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Rapport needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve the UI and API on an embedded SQLite database (./rapport-data)
run: $(STAMP)
	$(BIN)/rapport serve

## The same, with demo data loaded into an empty database
demo: $(STAMP)
	RAPPORT_DEMO=1 $(BIN)/rapport serve

## The whole test suite (SQLite always; PostgreSQL when one answers)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## Retake the README's screenshots (the browser tests write docs/screenshots/*.png)
screenshots: $(STAMP)
	RAPPORT_TEST_SCREENSHOTS=1 $(BIN)/python -m pytest tests/web -k browser -p no:xdist -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/import_contacts.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
