# The two commands of the README: `make run` and `make test`. Both install into .venv when the
# requirements changed since the last install (a stamp file), so the second time is fast.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Nothing may reach a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test bench lint install-llm install-browser clean-index

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $(STAMP)

run: install
	$(BIN)/docqa ingest
	$(BIN)/docqa ui

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m eval.bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install-llm: install
	bash scripts/llm_setup.sh $(BIN)/python

clean-index:
	rm -rf .docqa/index
