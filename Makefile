# Quick start: `make demo` runs the built-in demo, `make test` runs the tests; each first installs
# what it needs when that has not been done (or setup.py changed).
#   demo: the runtime only (numpy, OpenCV, ONNX Runtime) in .venv-runtime, no PyTorch.
#   test: the runtime plus PyTorch and the test tools in .venv.
PYTHON ?= python3
VENV ?= .venv
RUNTIME_VENV ?= .venv-runtime
TORCH ?= torch==2.13.0
# Where pip looks for PyTorch besides PyPI. PyTorch's CPU index by default: PyPI's Linux torch
# wheels are CUDA builds with GBs of CUDA libraries. For a GPU build, `make test TORCH_INDEX=`
# (PyPI's CUDA build) or e.g. TORCH_INDEX=https://download.pytorch.org/whl/cu126.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# An index that does not answer within 5 s is left out (with a note) rather than retried by pip
# for minutes over every package (a network that reaches PyPI only).
TORCH_INDEX_OPTION = $(if $(strip $(TORCH_INDEX)),$(shell $(PYTHON) -c "import urllib.request as u, sys; \
	u.urlopen('$(TORCH_INDEX)/', timeout=5); print('--extra-index-url $(TORCH_INDEX)')" 2>/dev/null \
	|| echo "note: $(TORCH_INDEX) does not answer; torch comes from PyPI" >&2),)

STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed

.PHONY: install install-runtime demo test test-fast docs

install: $(STAMP)

install-runtime: $(RUNTIME_STAMP)

$(STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet $(TORCH_INDEX_OPTION) "$(TORCH)"
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(RUNTIME_STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(RUNTIME_VENV)/bin/siamtrack demo

# The complete suite, as CI runs it.
test: $(STAMP)
	$(VENV)/bin/python -m pytest

# The edit-run loop: everything but the tests marked slow (real sequences, training runs).
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow"

# The documentation site (docs/, mkdocs.yml) into site/, failing on any broken link or reference.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict
