# Two entry points for a fresh machine with Python 3.11+ and make:
#   make demo   set up .venv and render a seed routine to output/ (offline Piper voice)
#   make test   set up .venv with the test tools and run lint, types and the whole test suite
# and for CI (.ci/run): make test-newest runs the fast suite on the newest Python pyenv keeps.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= routines/love-your-spine.yaml

NEWEST := .venv-newest
FAST   := not slow and not browser
TESTS  ?=

.PHONY: demo test test-newest lint browser clean

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

# The fast suite (no real voice, no browser) in a second venv on the newest CPython that pyenv
# keeps, when it is newer than .venv's: guidecast supports 3.11 through the newest release.
# Skipped, with a message, on a machine without one. The venv is remade when that Python
# changes, and reinstalled when the dependencies do. TESTS narrows it to some test files.
test-newest:
	@base=$$(test -x $(BIN)/python && echo $(BIN)/python || echo $(PYTHON)); \
	py=$$(scripts/newest-python.sh $$base); \
	if [ -z "$$py" ]; then \
		echo "test-newest: no Python newer than $$($$base -V 2>&1) under pyenv; skipped"; \
		exit 0; \
	fi; \
	want=$$($$py -V 2>&1); \
	if [ -x $(NEWEST)/bin/python ] && [ "$$($(NEWEST)/bin/python -V 2>&1)" != "$$want" ]; then \
		rm -rf $(NEWEST); \
	fi; \
	echo "test-newest: the fast suite on $$want ($$py)"; \
	$(MAKE) --no-print-directory NEWEST_PYTHON=$$py $(NEWEST)/.installed-test && \
	$(NEWEST)/bin/pytest -q -m "$(FAST)" $(TESTS)

$(NEWEST)/bin/python:
	$(NEWEST_PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/python -m pip install --quiet --upgrade pip

$(NEWEST)/.installed-test: pyproject.toml | $(NEWEST)/bin/python
	$(NEWEST)/bin/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) $(NEWEST) .pytest_cache .mypy_cache .ruff_cache
