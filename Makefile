# Two commands on a fresh machine: `make demo` and `make test` (Python 3.11 and pip only).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test stress live bench screenshots install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ssj demo --out demo-out

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m "not stress and not live"

stress: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m stress

live: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m live

bench: $(STAMP)
	$(BIN)/python -m bench

# README's dashboard pictures: the demo against a Prefect server of its own, taken with Debian's headless
# Chromium (apt-get install chromium fonts-noto-cjk) into docs/dashboard-*.png
screenshots: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[screenshots]"
	$(BIN)/python -m docs.screenshots

clean:
	rm -rf $(VENV) demo-out .pytest_cache
