# budgetkg — two commands on a fresh machine:
#   make run    install into .venv, ingest the bundled samples, build the index, serve on :8000
#   make test   install what the tests need (incl. Chromium for the browser tests) and run them
#
# torch comes first and pinned: 2.13.0 is a local CPU build; any other torch requirement would
# make pip download a multi-GB CUDA build.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= data
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run serve ingest test test-fast bench quality real-corpus system-deps browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(BIN)/budgetkg --data $(DATA) ingest samples

run: ingest
	$(BIN)/budgetkg --data $(DATA) serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/budgetkg --data $(DATA) serve --host $(HOST) --port $(PORT)

$(TESTSTAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TESTSTAMP)

# Debian packages the tests drive: Chromium and a CJK font for the browser tests (Playwright drives
# /usr/bin/chromium; `playwright install` cannot download browsers here) and Virtuoso, the second
# real SPARQL server the remote store is tested against (~15 s to install)
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk" || ! command -v virtuoso-t >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk virtuoso-opensource >/dev/null; \
	fi

browser: system-deps

# two pytest-xdist workers (one per core of the 2-core machines this runs on); a module's tests, and
# all tests sharing the session's server, stay on one worker (tests/conftest.py); TEST_WORKERS=0 runs
# them in one process
TEST_WORKERS ?= 2
PYTEST := BUDGETKG_MODEL_CACHE=$(CURDIR)/tests/.artifacts/models $(BIN)/python -m pytest -q \
          $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

test: $(TESTSTAMP) system-deps
	$(PYTEST)

test-fast: $(TESTSTAMP)
	$(PYTEST) -m "not slow"

quality: $(TESTSTAMP)
	$(BIN)/python bench/search_quality.py

bench: $(TESTSTAMP)
	$(BIN)/python bench/run.py --projects 5000 --json

# how well real disclosures are read: per file and in total (read/refused, tables, 勾稽 checks, pages/s);
# CORPUS=folder of documents, TREE=another checkout to measure instead (e.g. the parser before a change)
CORPUS ?= ../shared/corpus/bulk
TREE   ?= $(CURDIR)
real-corpus: $(STAMP)
	$(BIN)/python bench/real_corpus.py $(CORPUS) --tree $(TREE)

clean:
	rm -rf $(VENV) $(DATA) tests/.artifacts bench/.cache
