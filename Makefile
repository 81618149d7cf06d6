# One command to run the server, one to run the tests. Both create .venv and install the project.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test install lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/engram models ensure
	$(BIN)/engram serve

test: $(STAMP)
	$(BIN)/ruff check engram_core engram_server tests bench hooks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check engram_core engram_server tests bench hooks
	$(BIN)/ruff format --check engram_core engram_server tests bench hooks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache
