# Two commands for a fresh machine (see README.md):
#   make reports   set everything up, run every study on the bundled real data: the review PDF
#                  reports/review.pdf, one PDF per study and reports/review.html
#   make test      set everything up, run the unit tests and every notebook in fast mode
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc poppler-utils

.PHONY: reports test install system-deps lint bench clean

reports: install system-deps
	$(BIN)/research review configs/review.yaml --out reports

test: install system-deps
	$(BIN)/python -m pytest

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	touch $@

# PDF export runs nbconvert through xelatex and pandoc (Debian packages).
system-deps:
	@if command -v xelatex >/dev/null 2>&1 && command -v pandoc >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing PDF toolchain: $(SYSTEM_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "PDF export needs xelatex and pandoc: run 'sudo apt-get install $(SYSTEM_PACKAGES)' and retry" >&2; exit 1; \
	fi

lint: install
	$(BIN)/ruff check research tests benchmarks notebooks

bench: install
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) reports/*.pdf reports/*.html reports/_build
