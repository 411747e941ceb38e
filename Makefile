# Two commands set everything up on a fresh machine (Python 3.10+ and internet access to PyPI):
#   make demo   installs into .venv, indexes corpus/ and answers a question
#   make test   installs into .venv and runs the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsqa ask "How many US troops are in Iraq?"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check index bot tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .newsqa .pytest_cache
