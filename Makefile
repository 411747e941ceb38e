# Two commands set everything up on a fresh machine (Python 3.10+ and internet access to PyPI):
#   make demo   installs into .venv, indexes corpus/ and answers a question
#   make test   installs into .venv and runs the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# index/ and bot/ install as newsqa.index and newsqa.bot (pyproject's package-dir). mypy and
# import-linter find packages on disk and cannot follow the editable install's import hook, so they
# read this view of the installed layout: links to the real folders, rebuilt by every `make lint`.
VIEW   := build/pkgview

.PHONY: demo test install lint lint-imports pkgview train clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# `newsqa index` first: incremental (nothing to do when the index is current), and it rebuilds an
# index an older newsqa built with another embedding model, which `ask` refuses.
demo: $(STAMP)
	$(BIN)/newsqa index
	$(BIN)/newsqa ask "How many US troops are in Iraq?"

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Retrain the answer model from ../shared (seeded) and install it into index/answering/model/: the
# reader (~60 min on 2 quiet cores), then the chooser on its readings (~30 min): docs/answer-model.md.
# torch & co. come from the optional `train` extra.
train: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'
	$(BIN)/python bench/train_answerer.py --fold a --install
	$(BIN)/python bench/fit_chooser.py --refresh --install

pkgview:
	mkdir -p $(VIEW)/newsqa
	ln -sfn ../../../newsqa/__init__.py $(VIEW)/newsqa/__init__.py
	ln -sfn ../../../newsqa/__main__.py $(VIEW)/newsqa/__main__.py
	ln -sfn ../../../index $(VIEW)/newsqa/index
	ln -sfn ../../../bot $(VIEW)/newsqa/bot

# The layer contracts in pyproject's [tool.importlinter]; run from the view so `newsqa` is found there.
lint-imports: $(STAMP) pkgview
	cd $(VIEW) && $(CURDIR)/$(BIN)/lint-imports $(CURDIR)/pyproject.toml

lint: $(STAMP) pkgview lint-imports
	$(BIN)/ruff check newsqa index bot tests bench
	$(BIN)/mypy

# The fast tier (tests marked `fast`: no model, no Chroma, no subprocess; conftest enforces it).
.PHONY: test-fast
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m fast

clean:
	rm -rf $(VENV) .newsqa .pytest_cache $(VIEW)
