# Two commands for a fresh machine (see README.md):
#   make reports   set everything up, run every study on the bundled real data: the review PDF
#                  reports/review.pdf and reports/review.html
#   make test      set everything up, run the unit tests and every notebook in fast mode
# Both install exactly the versions in requirements.lock (the versions CI tested);
#   make lock      re-resolves the dependencies of pyproject.toml and rewrites requirements.lock
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PIP_VERSION := 26.3
LOCK_VENV := .lock-venv
SYSTEM_PACKAGES := texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc poppler-utils

.PHONY: reports test install lock system-deps lint bench clean

reports: install system-deps
	$(BIN)/research review configs/review.yaml --out reports

test: install system-deps
	$(BIN)/python -m pytest

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) -e ".[dev,dask]"
	touch $@

# A throw-away environment resolves the newest versions pyproject.toml allows; its freeze
# replaces the lock only when the whole install succeeded.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(LOCK_VENV)/bin/python -m pip install --quiet -e ".[dev,dask]"
	{ echo "# Exact versions that 'make' installs (pip constraints). Regenerate with 'make lock'."; \
	  echo "# Resolved for Python $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())') with pip $(PIP_VERSION)."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV)

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
	rm -rf $(VENV) $(LOCK_VENV) reports/*.pdf reports/*.html reports/_build reports/run-manifest.json reports/.staging-* reports/.replaced-*
