# Quick start: `make demo` runs the built-in demo, `make test` runs the tests; each first
# installs siamtrack into .venv when that has not been done (or setup.py changed).
PYTHON ?= python3
VENV ?= .venv
# The CPU build of PyTorch is much smaller than the default CUDA one; override for a GPU build,
# e.g. `make test TORCH=torch`.
TORCH ?= torch==2.13.0

STAMP := $(VENV)/.installed

.PHONY: install demo test

install: $(STAMP)

$(STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet $(TORCH)
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/siamtrack demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest
