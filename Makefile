# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/online-retail-sample.csv.gz
HOST ?= 127.0.0.1
PORT ?= 8000
SENTIMENT_LOG := $${STOREWISE_VAR_DIR:-var}/sentiment-training.log

.PHONY: run test lint install demo serve bench clean

$(STAMP): pyproject.toml
	@echo "==> creating the virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@echo "==> installing torch 2.13.0 (CPU build) first, so nothing pulls a larger one"
	@$(BIN)/pip install --quiet torch==2.13.0
	@echo "==> installing Storewise and its pinned dependencies"
	@$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@echo "==> migrating the read-model database"
	@$(BIN)/storewise migrate
	@echo "==> loading the demo data ($(SAMPLE))"
	@$(BIN)/storewise import online-retail $(SAMPLE)
	@echo "==> recommendations measured: a simulated shop (SIM- products) whose customers are shown slates, click and buy (model health; README)"
	@$(BIN)/storewise simulate recommendations --demo
	@echo "==> training the recommender (unless the one served has seen every customer event)"
	@$(BIN)/storewise train recommender --if-stale --quiet --epochs 5
	@echo "==> review sentiment: training a model in the background if none is served (4,000 English, 12,000 Chinese reviews; $(SENTIMENT_LOG))"
	@echo "==> meanwhile, every engine at work on the demo data (storewise demo: each step idempotent)"
	@$(BIN)/storewise train sentiment --if-absent --sample en=4000 --sample zh=12000 --quiet > $(SENTIMENT_LOG) 2>&1 & trained=$$!; \
	  $(BIN)/storewise demo; demo=$$?; \
	  if ! wait $$trained; then cat $(SENTIMENT_LOG); exit 1; fi; exit $$demo
	@echo "==> review sentiment: $$(grep -o '"version": "[^"]*"\|"skipped": "[^"]*"' $(SENTIMENT_LOG) | head -1); sample reviews"
	@$(BIN)/storewise reviews demo
	@echo "==> outcomes: a measured campaign with its held-out group, forecasts against actuals, a scored purchase model"
	@$(BIN)/storewise outcomes demo
	@echo "==> without a token you browse the catalog; for more, a user and a bearer token (see README, Access):"
	@echo "    $(BIN)/storewise users create admin --role admin && $(BIN)/storewise tokens issue admin"
	@echo "==> serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	@$(BIN)/storewise serve --host $(HOST) --port $(PORT)

# The layers (import-linter), lint and format (ruff) and types (mypy) first: a broken contract fails the run.
lint: install
	@echo "==> layers (lint-imports), lint and format (ruff), types (mypy)"
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/ruff check --quiet .
	@$(BIN)/ruff format --check --quiet .
	@$(BIN)/mypy

test: lint
	@$(BIN)/python -m pytest -q

bench: install
	@$(BIN)/python bench/event_store.py

clean:
	rm -rf $(VENV) var .pytest_cache
