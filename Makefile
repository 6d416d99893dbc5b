# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format bench fuzz docs notebooks-strip clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

demo: $(STAMP)
	$(VENV)/bin/autograd-lite demo

LINTED := $(wildcard autograd_lite tests examples benchmarks notebooks docs/*.py)

lint: $(DEVSTAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

format: $(DEVSTAMP)
	$(PY) -m ruff format $(LINTED)
	$(PY) -m ruff check --fix $(LINTED)

test: lint
	$(PY) -m pytest -n 2 -q

fuzz: $(DEVSTAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/test_fuzz.py

bench: $(DEVSTAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Builds the docs; the lecture notebooks are executed in a Jupyter kernel on the way.
docs: $(DEVSTAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

# Notebooks are committed without outputs: run this after working in Jupyter.
notebooks-strip: $(DEVSTAMP)
	$(PY) notebooks/strip_outputs.py

clean:
	rm -rf $(VENV) docs/_build docs/notebooks .pytest_cache .ruff_cache build dist
