# codeagent — one command to set up and run, one to test.
#   make demo   create .venv, set up a sandbox (image or bubblewrap), install the embedded
#               model and solve a sample task
#   make test   run the test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MODEL  ?= qwen2.5-coder-1.5b
TASK   ?= configs/examples/palindrome_task.md

.PHONY: setup demo test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/codeagent sandbox setup
	$(BIN)/codeagent models install $(MODEL)
	$(BIN)/codeagent run --task-file $(TASK) --out out/demo

test: setup
	$(BIN)/pytest

# mypy cannot follow setuptools' editable-install finder, so it reads the packages
# through a tree of links laid out as they install (codeagent/graphs -> graphs/, ...).
TYPECHECK := build/typecheck/codeagent

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p $(TYPECHECK)
	@for pkg in configs evals graphs nodes tools; do ln -sfn ../../../$$pkg $(TYPECHECK)/$$pkg; done
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .codeagent out build .pytest_cache .mypy_cache .ruff_cache
