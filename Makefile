# `make test` and `make demo` work on a fresh clone: they create .venv and install everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test demo lint docs format bench clean

setup: $(STAMP)

# torch is pinned first so the project's range (torch>=2.10) is satisfied by the CPU build on disk
# instead of pulling a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,atari,mujoco,dm,robosuite-runtime,huggingface]"
	# robosuite without its mink==0.0.5 pin (numpy<2); its other dependencies are robosuite-runtime
	$(BIN)/python -m pip install --quiet --no-deps robosuite==1.5.2
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check rlblocks tests benchmarks
	$(BIN)/ruff format --check rlblocks tests benchmarks

# the documentation site (mkdocs-material, API reference by mkdocstrings) into site/; strict: a
# broken link, a missing reference or a warning fails the build
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# two workers: the tests are independent and this machine has two cores
test: lint docs
	$(BIN)/python -m pytest -q -n 2

# trains the default (PPO on CartPole-v1, about a minute on two cores); its summary ends with the
# run directory and the path of its curve.png
demo: setup
	$(BIN)/rlblocks train

format: setup
	$(BIN)/ruff check --fix rlblocks tests benchmarks
	$(BIN)/ruff format rlblocks tests benchmarks

bench: setup
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/model_act.py

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .ruff_cache
