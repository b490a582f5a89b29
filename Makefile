# Two commands are all a reader or a teacher needs:
#   make book   build the HTML book into _build/html/
#   make test   run every test: helpers, notebooks (nbval), the build, the browser
#               (make test-slow runs the long checks it skips: classroom edition, Run All twice)
# Both create the virtual environment .venv on first use.
# Maintainers have two more: make execute (store the chapters' outputs, under the reference
# Python) and make matrix (the suite under every Python and start method it can find).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The Python whose outputs the chapters store (one place: scripts/notebook_rules.py).
REFERENCE := $(shell sed -n 's/^REFERENCE_PYTHON = "\(.*\)".*/\1/p' scripts/notebook_rules.py)
VERSION   := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

.PHONY: book test test-slow execute lab matrix student classroom-check clean

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
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long checks make test skips (tests marked slow): about as long again as make test.
test-slow: $(STAMP)
	$(BIN)/python -m pytest --slow -m slow $(PYTEST_ARGS)

# Re-execute chapters and store their outputs: make execute [NB=chapters/01-....ipynb]
# Stored outputs come from the reference Python only: with another $(PYTHON), the command
# runs again under python$(REFERENCE), which scripts/debian-python provides where it is missing.
ifeq ($(VERSION),$(REFERENCE))
execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NB)
else
execute:
	scripts/debian-python $(REFERENCE) $(MAKE) execute NB="$(NB)"
endif

# The classroom edition: the chapters without solutions, exercise cells empty, with the
# helpers, requirements and a binder/ folder, into _build/student/ (hand it out, or point
# Binder at it), and its HTML book with solutions hidden in _build/student/_build/html/.
student: $(STAMP)
	$(BIN)/python scripts/student_edition.py

# Every chapter under nbval lax in a cgroup of one CPU and 2 GB, as on Binder, printing
# each chapter's peak memory (slow; needs root for the cgroup; not part of make test).
classroom-check: $(STAMP)
	scripts/classroom-check

# Trust the chapters first (their stored widgets render at once instead of as text), and
# allow root, as in a container; the server listens on this machine only.
lab: $(STAMP)
	$(BIN)/jupyter trust chapters/*.ipynb
	$(BIN)/jupyter lab --ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root,)

# The suite under every Python this machine has or scripts/debian-python provides, and under
# each start method: one line per combination (scripts/matrix; slow, not part of make test).
matrix:
	scripts/matrix

clean:
	rm -rf _build
