# The two commands the README opens with: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench fuzz browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	touch $(STAMP)

# The playground's browser tests drive Debian's Chromium (browsers cannot be downloaded here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

run: $(STAMP)
	$(BIN)/chainrule demo --output-dir chainrule-demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Longer runs than `make test` gives them: the fuzzers for 10 minutes each, every CLI row of the
# bad-input catalogue, 20 SIGKILLs of a training run that must resume bit-identically.
fuzz: $(STAMP)
	CHAINRULE_FUZZ_SECONDS=600 $(BIN)/python -m pytest -q -m fuzz tests/reliability
	CHAINRULE_RELIABILITY_FULL=1 CHAINRULE_KILLS=20 $(BIN)/python -m pytest -q \
	  tests/reliability/test_bad_input.py tests/reliability/test_faults.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache chainrule-demo
