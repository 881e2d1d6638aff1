# Fresh clone -> virtual environment -> quick suite / tests. Everything a new machine needs is here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-slow test-jax12 lint leaderboard screenshots check-results bench bench-peers clean

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

# Tests in TEST_WORKERS processes (pytest-xdist): XLA:CPU compiles on one thread, and most of a
# test's time is compiling small programs, so two processes keep both cores busy.
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# Style (ruff), types (mypy) and the import layers (import-linter contracts in pyproject.toml).
LINT_PATHS := ntkbench tests benchmarks examples
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

# Validate the committed result files, rebuild the leaderboard from them, then re-run a sample of
# the quick suite's results (chosen from their content; ~3 min of estimated run time) and compare:
# bit-identical, or within max(0.5, 3·std/√n) where the recorded stack differs (it says why).
VERIFY_MINUTES ?= 3
check-results: install
	$(BIN)/ntkbench validate results
	$(BIN)/ntkbench leaderboard --results results --out leaderboard
	$(BIN)/ntkbench verify --reference results --budget-minutes $(VERIFY_MINUTES)

leaderboard: install
	$(BIN)/ntkbench leaderboard --results results --out leaderboard

# docs/img/: the index and two task pages of the committed results' leaderboard in headless
# Chromium (Debian's /usr/bin/chromium), 1400 px wide, as the browser test sees them.
screenshots: install
	$(BIN)/python tests/test_leaderboard_browser.py docs/img

# JAX's current release line (0.12; it needs Python >= 3.12) beside the reference environment: a
# second venv from requirements-jax12.lock running the tests that exercise the neural-tangents shim.
PY312       ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
VENV12      := .venv-jax12
JAX12_TESTS ?= tests/test_kernels.py
test-jax12:
	@test -n "$(PY312)" || { echo "no Python 3.12 found (JAX 0.12 needs it): make test-jax12 PY312=/path/to/python3.12" >&2; exit 1; }
	test -x $(VENV12)/bin/python || $(PY312) -m venv $(VENV12)
	$(VENV12)/bin/python -m pip install -q -c requirements-jax12.lock -e '.[test]'
	$(VENV12)/bin/python -c 'import jax; print("jax", jax.__version__)'
	$(VENV12)/bin/python -m pytest -q $(JAX12_TESTS)

test-slow: install
	$(BIN)/python -m pytest -q -m slow

bench: install
	$(BIN)/python benchmarks/run_all.py

# ntkbench beside the libraries people use instead (Avalanche, torchattacks, a DC-BENCH PyTorch loop,
# neural-tangents), one process per comparison: a venv of their own from benchmarks/peers/
# requirements-peers.lock (CPU PyTorch; never in the project's dependencies or CI).
# torchattacks is installed without its dependencies: it pins requests~=2.25.1.
VENV_PEERS := .venv-peers
$(VENV_PEERS)/.installed: benchmarks/peers/requirements-peers.lock pyproject.toml
	$(PYTHON) -m venv $(VENV_PEERS)
	grep -v '^torchattacks==' benchmarks/peers/requirements-peers.lock > $(VENV_PEERS)/lock.txt
	$(VENV_PEERS)/bin/python -m pip install -q -r $(VENV_PEERS)/lock.txt
	$(VENV_PEERS)/bin/python -m pip install -q --no-deps $$(grep '^torchattacks==' benchmarks/peers/requirements-peers.lock) -e .
	touch $@

bench-peers: $(VENV_PEERS)/.installed
	$(VENV_PEERS)/bin/python benchmarks/peers/run.py

clean:
	rm -rf $(VENV) $(VENV12) build *.egg-info
