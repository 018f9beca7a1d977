# Two commands for a fresh clone:
#   make demo   set up .venv and run a short swing-up search on a local Ray (about a minute)
#   make test   set up .venv and run the test suite (ruff + import-linter + pytest)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup demo test test-slow bench clean clean-cache

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/wann search experiments/swingup-smoke.toml

test: setup
	$(BIN)/ruff check wann tests
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

test-slow: setup
	WANN_SLOW=1 $(BIN)/python -m pytest -q -m slow

bench: setup
	$(BIN)/wann bench

clean: clean-cache
	rm -rf $(VENV) .pytest_cache .hypothesis

# numba recompiles a cached kernel only when its own file changes, not an inlined callee's
# (wann/network.py, wann/vmath.py, wann/tasks/classic.py): clear the caches after editing those
clean-cache:
	find wann -name '*.nbi' -delete -o -name '*.nbc' -delete
