# Thin wrappers: every target calls the project's own tools; no logic lives here.
# `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: help setup app test build validate bench clean-venv

help:             ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/mapping: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	npm ci --silent --no-audit --no-fund
	touch $(BIN)/mapping

setup: $(BIN)/mapping  ## create .venv and install the project with its test tools

build: setup      ## build the processed data from the data package
	$(BIN)/mapping build

validate: setup   ## check the data package without writing anything
	$(BIN)/mapping validate

app: build        ## set up, build, and serve the app on http://127.0.0.1:5006/
	$(BIN)/mapping serve

test: setup       ## set up and run the whole test suite
	$(BIN)/python -m pytest

bench: build      ## run the benchmarks (prints tables, writes benchmarks/results/*.json)
	$(BIN)/python -m benchmarks

clean-venv:       ## remove the virtual environment
	rm -rf $(VENV)
