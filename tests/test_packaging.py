"""Every package folder is declared in pyproject.toml (they are listed by hand
because kernels/ and clients/ are mapped under the redactor namespace)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_declared() -> None:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(cfg["packages"])
    mapping = cfg["package-dir"]
    found = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "__pycache__" in rel.parts:
                continue
            sub = ".".join((name, *rel.parts)) if rel.parts else name
            if not any(
                sub != n and sub.startswith(n + ".") and n in mapping and n != name for n in mapping
            ):
                found.add(sub)
    # sub-folders of redactor/ that are mapped elsewhere are not redactor's
    assert found - declared == set(), (
        f"add to [tool.setuptools] packages: {sorted(found - declared)}"
    )
