# The two commands of README.md. Each sets up .venv (Python ≥ 3.11) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
DEMO_DIR ?= meshlake-demo

.PHONY: demo test lint clean clean-bench

$(READY): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("meshlake needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(READY)

demo: $(READY)
	$(BIN)/meshlake demo $(DEMO_DIR)

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# PYTEST_ARGS narrows the suite (tests/test_first_hour.py runs `make test` in a clone with a subset);
# PYTEST_WORKERS is how many processes share it (pytest-xdist; auto: one per core, 0: in pytest's own process).
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .ruff_cache .pytest_cache

# The lakes the benchmarks grow and reuse (tens of GB after the 20 M-row and 10,000-snapshot runs).
clean-bench:
	rm -rf benchmarks/.work
