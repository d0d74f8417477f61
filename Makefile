# Two commands on a fresh machine: `make demo` (the main job on the local gateway) and
# `make test` (lint, types and the whole test suite). Each builds its own virtual environment.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench soak serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,aiohttp,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/aigateway demo

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy --strict aigateway_sdk

pytest: $(STAMP)
	$(PY) -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) -m benchmarks.run

soak: $(STAMP)
	$(PY) -m benchmarks.soak

serve: $(STAMP)
	$(VENV)/bin/aigateway serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
