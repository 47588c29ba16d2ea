"""Prints how many bad inputs the fuzz suite tried (the figure the security review asks for)."""

from __future__ import annotations

import pytest
from fuzz_count import TRIED, summary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TRIED:
        terminalreporter.write_sep("-", "redactor fuzz")
        terminalreporter.write_line(summary())
