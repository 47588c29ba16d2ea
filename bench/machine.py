"""The machine a benchmark ran on: CPU, cores, memory, load, and the versions that matter."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from redactor.detect.threads import usable_cpus

# Distribution names whose versions change the figures (what the issue asks to record).
PACKAGES = {
    "numpy": "numpy",
    "numba": "numba",
    "opencv": "opencv-python-headless",
    "mediapipe": "mediapipe",
    "onnxruntime": "onnxruntime",
    "pyav": "av",
    "grpcio": "grpcio",
    "matplotlib": "matplotlib",
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_commit(repo: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def machine_info(repo: Path | None = None) -> dict[str, Any]:
    """CPU model, cores, memory, load, OS, Python and library versions, the repository's commit."""
    return {
        "cpu_model": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": usable_cpus(),
        "memory_bytes": _memory_bytes(),
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: _version(dist) for name, dist in PACKAGES.items()},
        "commit": _git_commit(repo) if repo else None,
    }
