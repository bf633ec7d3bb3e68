# Two entry points for a fresh machine with Python 3.11+ and make:
#   make demo   set up .venv and render a seed routine to output/ (offline Piper voice)
#   make test   set up .venv with the test tools and run lint, types and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= routines/love-your-spine.yaml

.PHONY: demo test lint browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/guidecast render $(DEMO) -o output/

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

# The page test drives a real headless Chromium; Debian's package is installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || scripts/install-chromium.sh

test: $(VENV)/.installed-test browser lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
