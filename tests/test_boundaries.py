"""What each part may import (../shared/ARCHITECTURE.md, "Parts and what they may know"),
read from the source with `ast`: lazy imports inside functions and
`importlib.import_module("literal")` count as imports too.

- gRPC and protobuf stay in redactor/server/, redactor/v1/ and clients/;
- clients/ uses the contract and an explicit list of public modules, never the
  server's or the pipeline's internals (checked again at run time, transitively);
- kernels/ imports only itself, NumPy, Numba and the standard library;
- no module of the service touches the environment at import time;
- every third-party package imported is declared, in the right place of pyproject.toml.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# folder -> the name it imports as (pyproject's package-dir maps kernels/ and clients/)
PACKAGES = {
    "redactor": "redactor",
    "kernels": "redactor.kernels",
    "clients": "redactor.clients",
    "bench": "bench",
    "proto": "proto",
    "tests": "tests",
}
SERVICE = ("redactor", "kernels", "clients")  # what gets installed

GRPC = (
    "grpc",
    "grpc_health",
    "grpc_reflection",
    "grpc_status",
    "grpc_tools",
    "google.protobuf",
    "redactor.v1",
)
GRPC_HOMES = ("redactor.server", "redactor.v1", "redactor.clients")
# RedactorClient.stream takes a pb.StreamHeader: the clients' public API is written in the
# contract's messages, so their callers (bench/) may build those, but never open gRPC themselves.
BENCH_MAY_USE = ("redactor.v1",)

# What clients/ may import of the service: the contract and modules public to both sides.
CLIENTS_MAY_USE = {
    "redactor.clients": "itself",
    "redactor.v1": "the generated contract: the messages and stubs a client speaks",
    "redactor.net": "is_loopback: client and server agree where plaintext and no token are allowed",
    "redactor.errors": "the error family; the audit command reports RedactorError as the server does",
    "redactor.config": "load_config: the audit command reads the server's own file for the ledger and key paths",
    "redactor.ledger": "Ledger: the audit command reads and verifies the provision ledger",
    "redactor.sqlite": "how the ledger's SQLite file is opened (the Ledger's own)",
    "redactor.export.manifest": "verify: one implementation of the manifest for the writer and the auditor",
    "redactor.export.keys": "the export signing key's public half, read as the export service stores it",
}

KERNELS_MAY_USE = ("redactor.kernels", "numpy", "numba")

# Installed apart by the Makefile (--no-deps): pyproject lists its runtime needs instead.
INSTALLED_APART = ("mediapipe",)
# Declared for their commands, not imported: `dask scheduler` / `dask worker` (make cluster);
# python-multipart is what FastAPI parses the console's forms with (imported by FastAPI).
COMMANDS_ONLY = ("dask", "python-multipart")
# Runs in the peers' own virtual environment (deface's dependencies), never the project's.
OTHER_VENV = ("bench/deface_masks.py",)


def sources(*folders: str) -> list[Path]:
    return sorted(
        p
        for folder in folders
        for p in (ROOT / folder).rglob("*.py")
        if not any(
            part.startswith(".") or part == "__pycache__" for part in p.relative_to(ROOT).parts
        )
    )


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [PACKAGES[rel.parts[0]], *rel.parts[1:]]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in `path`; `from a import b` gives a.b (b may be
    a module), relative imports are resolved."""
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
        ):
            yield node.lineno, node.args[0].value


def under(name: str, prefixes: tuple[str, ...] | dict[str, str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def where(path: Path, line: int, name: str) -> str:
    return f"{path.relative_to(ROOT)}:{line} imports {name}"


def test_grpc_and_protobuf_stay_in_server_v1_and_clients() -> None:
    found = [
        where(path, line, name)
        for path in sources(*SERVICE, "bench")
        if not under(module_of(path), GRPC_HOMES)
        for line, name in imports(path)
        if under(name, GRPC)
        and not (under(module_of(path), ("bench",)) and under(name, BENCH_MAY_USE))
    ]
    assert not found, (
        "gRPC/protobuf outside redactor/server, redactor/v1 and clients/:\n" + "\n".join(found)
    )


def test_clients_use_only_the_public_modules() -> None:
    found = [
        where(path, line, name)
        for path in sources("clients")
        for line, name in imports(path)
        if under(name, ("redactor",)) and not under(name, CLIENTS_MAY_USE)
    ]
    assert not found, (
        "clients/ reaches into the service (or add the module to CLIENTS_MAY_USE):\n"
        + "\n".join(found)
    )


def loaded_by(modules: list[str]) -> set[str]:
    """The redactor.* modules a fresh interpreter holds after importing `modules`."""
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('\\n'.join(n for n in sys.modules if n == 'redactor' or n.startswith('redactor.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize(
    ("folder", "may_use"), [("clients", tuple(CLIENTS_MAY_USE)), ("kernels", ("redactor.kernels",))]
)
def test_importing_a_part_loads_nothing_else_of_the_service(
    folder: str, may_use: tuple[str, ...]
) -> None:
    """The allowed modules do not drag the internals in behind them."""
    parents = {p.rsplit(".", n)[0] for p in may_use for n in range(1, p.count(".") + 1)}
    loaded = loaded_by([module_of(p) for p in sources(folder)])
    extra = sorted(m for m in loaded if m not in parents and not under(m, may_use))
    assert not extra, f"importing {folder}/ loads {extra}"


def test_kernels_import_only_themselves_numpy_and_numba() -> None:
    found = [
        where(path, line, name)
        for path in sources("kernels")
        for line, name in imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names and not under(name, KERNELS_MAY_USE)
    ]
    assert not found, "kernels/ are pure functions over arrays:\n" + "\n".join(found)


def touches_environment(tree: ast.Module) -> Iterator[int]:
    """Lines that read or write os.environ (or call getenv/putenv/unsetenv) while the module
    is imported: function bodies run later, their defaults and decorators do not."""

    def walk(node: ast.AST) -> Iterator[int]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            deferred = node.body if isinstance(node.body, list) else [node.body]
            for child in ast.iter_child_nodes(node):
                if child not in deferred:
                    yield from walk(child)
            return
        if isinstance(node, ast.Attribute) and node.attr in (
            "environ",
            "environb",
            "getenv",
            "putenv",
            "unsetenv",
        ):
            yield node.lineno
        elif isinstance(node, ast.Name) and node.id in ("environ", "getenv", "putenv"):
            yield node.lineno
        for child in ast.iter_child_nodes(node):
            yield from walk(child)

    yield from walk(tree)


def test_no_environment_read_or_written_at_import() -> None:
    """Configuration is read once at start-up; what a process needs set goes at its entry point
    (redactor serve sets OMP_WAIT_POLICY)."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sources(*SERVICE)
        for line in touches_environment(ast.parse(path.read_text()))
    ]
    assert not found, "os.environ at import time:\n" + "\n".join(found)


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(requirements: list[str]) -> set[str]:
    return {normal(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r)[0]) for r in requirements}  # type: ignore[index]


def third_party(folders: tuple[str, ...], skip: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """Distribution -> the files that import it, over the third-party imports of `folders`."""
    # the tests import their helper modules by bare name (pytest puts their folders on sys.path)
    local = (
        set(PACKAGES)
        | {p.stem for p in sources("tests")}
        | {p.parent.name for p in sources("tests")}
    )
    dists = importlib.metadata.packages_distributions()
    used: dict[str, set[str]] = {}
    for path in sources(*folders):
        if str(path.relative_to(ROOT)) in skip:
            continue
        for _, name in imports(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in local:
                continue
            assert top in dists, (
                f"{path.relative_to(ROOT)} imports {top}, which no installed distribution provides"
            )
            for dist in dists[top]:
                used.setdefault(normal(dist), set()).add(str(path.relative_to(ROOT)))
    return used


def test_dependencies_are_what_each_part_imports() -> None:
    """Runtime dependencies: what the service imports (and mediapipe's needs); the bench's
    own in the `bench` extra; the tests' in `dev`. Nothing declared that nothing uses."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = names(project["dependencies"])
    extras = {k: names(v) for k, v in project["optional-dependencies"].items()}
    apart = set(INSTALLED_APART)
    needs = names(
        [r.split(";")[0] for d in INSTALLED_APART for r in importlib.metadata.requires(d) or []]
    )

    service = third_party(SERVICE)
    bench = third_party(("bench",), skip=OTHER_VENV)
    rest = third_party(("tests", "proto"))
    assert set(service) - runtime - apart == set(), (
        "imported by the service, not in [project] dependencies"
    )
    assert set(bench) - runtime - apart - extras["bench"] == set(), (
        "imported by bench/, not in the bench extra"
    )
    assert set(rest) - runtime - apart - extras["bench"] - extras["dev"] == set(), (
        "imported by tests, not in dev"
    )
    assert runtime - set(service) - needs - set(COMMANDS_ONLY) == set(), (
        "runtime dependencies nothing in the service imports"
    )
    assert extras["bench"] - set(bench) == set(), "bench extra entries nothing in bench/ imports"
