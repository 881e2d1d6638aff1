# Fresh clone -> virtual environment -> quick suite / tests. Everything a new machine needs is here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-slow lint leaderboard check-results bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[test,lint]'
	touch $(STAMP)

# The quick suite into runs/ (git-ignored: a fresh clone always runs it), compared with the
# committed reference results, and its leaderboard in runs/leaderboard/.
run: install
	$(BIN)/ntkbench run suites/quick.toml --out runs --reference results
	$(BIN)/ntkbench leaderboard --results runs --out runs/leaderboard

test: install
	$(BIN)/python -m pytest -q

# Style (ruff), types (mypy) and the import layers (import-linter contracts in pyproject.toml).
LINT_PATHS := ntkbench tests benchmarks examples
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

# Validate the committed result files and rebuild the leaderboard from them.
check-results: install
	$(BIN)/ntkbench validate results
	$(BIN)/ntkbench leaderboard --results results --out leaderboard

leaderboard: install
	$(BIN)/ntkbench leaderboard --results results --out leaderboard

test-slow: install
	$(BIN)/python -m pytest -q -m slow

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
