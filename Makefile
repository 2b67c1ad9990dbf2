# The two commands a user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test bench install install-test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(PY) examples/sentiment.py

test: $(VENV)/.installed-test
	$(PY) -m pytest -q tests
	BPTT_KERNELS=reference $(PY) -m pytest -q tests/layers tests/models tests/test_models.py \
		tests/test_saving.py tests/test_saving_layers.py tests/test_end_to_end.py tests/test_keras_golden.py \
		tests/test_keras_golden_functional.py tests/test_keras_golden_masking.py \
		tests/test_diagnostics.py

# Keras joins `make bench` when .venv has it (extras bench-keras, bench-jax) or when
# KERAS_PYTHON names other venvs' pythons that have it (space-separated);
# BENCH_ARGS=--quick for a ~1-minute smoke run.
KERAS_PYTHON ?=
BENCH_ARGS ?=

bench: $(VENV)/.installed-test
	$(PIP) install -q -e ".[bench]"
	$(PY) -m benchmarks.run $(foreach p,$(KERAS_PYTHON),--keras-python $(p)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
