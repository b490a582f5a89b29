# Two commands are all a reader or a teacher needs:
#   make book   build the HTML book into _build/html/
#   make test   run every test: helpers, notebooks (nbval), the build, the browser
# Both create the virtual environment .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test execute lab clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed: run make PYTHON=python3.12 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $(STAMP)

# The book is built from stored outputs, so it first refuses a chapter whose outputs the
# execute script did not make (run and saved in Jupyter, saved without widget state).
# Widgets and maths render offline: where npm is, `npm ci` installs the JavaScript pinned
# in package-lock.json and the build serves it from the book (_ext/book_html.py; the
# tests install it the same way). Without npm the pages load it from public CDNs.
book: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py --check
	$(BIN)/python _ext/book_html.py
	$(BIN)/jupyter-book build -W -n --keep-going .

test: $(STAMP)
	$(BIN)/python -m pytest

# Re-execute chapters and store their outputs: make execute [NB=chapters/01-....ipynb]
execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NB)

# Trust the chapters first (their stored widgets render at once instead of as text), and
# allow root, as in a container; the server listens on this machine only.
lab: $(STAMP)
	$(BIN)/jupyter trust chapters/*.ipynb
	$(BIN)/jupyter lab --ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:
	rm -rf _build
