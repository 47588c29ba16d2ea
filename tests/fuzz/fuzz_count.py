"""How many bad inputs the fuzz suite sent, by request type and by the status code
that came back; tests/fuzz/conftest.py prints it in pytest's terminal summary."""

from __future__ import annotations

from collections import Counter

import grpc

TRIED: Counter[str] = Counter()  # request type → inputs sent
ANSWERS: Counter[str] = Counter()  # status code name → how often it came back
BY_KIND: Counter[tuple[str, str]] = Counter()  # (request type, status code name) → count


def record(kind: str, code: grpc.StatusCode) -> None:
    TRIED[kind] += 1
    ANSWERS[code.name] += 1
    BY_KIND[kind, code.name] += 1


def summary() -> str:
    total = sum(TRIED.values())
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(TRIED.items()))
    codes = ", ".join(f"{k} {n}" for k, n in sorted(ANSWERS.items()))
    detail = "; ".join(
        f"{kind}: " + ", ".join(f"{c} {n}" for (k, c), n in sorted(BY_KIND.items()) if k == kind)
        for kind in sorted(TRIED)
    )
    return f"bad inputs tried: {total} ({kinds}); answered: {codes}\n  {detail}"
