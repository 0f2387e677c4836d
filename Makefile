# Two commands matter: `make chat` and `make test`. Both install what is needed first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH  ?= all

.PHONY: install chat test lint bench clean

install: $(STAMP)

# torch is installed first and by exact version: torch==2.13.0 is the CPU wheel. Any looser
# request would let pip fetch a CUDA build of several GB.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

chat: install
	$(BIN)/qa chat

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m mypy

bench: install
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
