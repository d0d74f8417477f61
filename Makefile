# Two commands on a fresh machine: `make demo` (the main job on the local gateway) and
# `make test` (lint, types and the whole test suite). Both build .venv on first use: `demo`
# installs only what the main job needs (the package and its `local` extra), `test` then adds
# the `aiohttp` extra and the `dev` dependency group (test, lint and benchmark tools).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCAL  := $(VENV)/.installed-local
DEV    := $(VENV)/.installed-dev
FLOORS ?= .venv-floors
CF4    ?= .venv-cloudflare4

.PHONY: demo test lint typecheck pytest bench soak serve floors cloudflare4 clean

# pip >= 25.1 reads dependency groups (`--group`); a fresh machine's pip is older.
$(LOCAL): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local]'
	touch $(LOCAL)

$(DEV): $(LOCAL)
	$(PY) -m pip install --quiet -e '.[local,aiohttp]' --group dev
	touch $(DEV)

demo: $(LOCAL)
	$(VENV)/bin/aigateway demo

serve: $(LOCAL)
	$(VENV)/bin/aigateway serve

lint: $(DEV)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(DEV)
	$(PY) -m mypy --strict aigateway_sdk

pytest: $(DEV)
	$(PY) -m pytest

test: lint typecheck pytest

bench: $(DEV)
	$(PY) -m benchmarks.run

soak: $(DEV)
	$(PY) -m benchmarks.soak

# The declared lower bounds of the runtime dependencies and the `local` extra, installed
# exactly (.ci/floors.py reads them from pyproject.toml) in a separate venv, against the
# SDK's tests. CI runs it once per run, after `make test`.
# Cloudflare's own Python SDK 4.x (legacy credentials, strict response models) against the
# local gateway's control plane; the dev group has 5.x, which `make test` runs the same tests with.
cloudflare4:
	rm -rf $(CF4)
	$(PYTHON) -m venv $(CF4)
	$(CF4)/bin/python -m pip install --quiet --upgrade pip
	$(CF4)/bin/python -m pip install --quiet -e '.[local]' 'cloudflare==4.3.1' pytest trio
	$(CF4)/bin/python -m pytest tests/local/test_legacy_clients.py tests/local/test_catalog.py \
		tests/local/test_spend_limits.py -k "legacy_clients or cloudflare"

floors:
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS)/bin/python -m pip install --quiet $$($(PYTHON) .ci/floors.py) pytest trio hypothesis
	$(FLOORS)/bin/python -m pip install --quiet --no-deps -e .
	$(FLOORS)/bin/python -m pip list 2>/dev/null | grep -iE '^(anyio|httpx|httpcore2|attrs|dependency-injector|starlette|uvicorn|orjson) '
	$(FLOORS)/bin/python -m pytest tests/sdk

clean:
	rm -rf $(VENV) $(FLOORS) $(CF4) .mypy_cache .ruff_cache .pytest_cache
