"""Detection threads run at a lower CPU priority than the frame path."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from redactor.detect.threads import lower_priority


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priorities on this platform")
def test_lower_priority_applies_to_the_pool_threads_only() -> None:
    before = _niceness()
    with ThreadPoolExecutor(2, initializer=lower_priority, initargs=(5,)) as pool:
        inside = set(pool.map(lambda _: _niceness(), range(4)))
    assert inside == {min(19, before + 5)}
    assert _niceness() == before  # the calling thread (the frame path) keeps its priority
    with ThreadPoolExecutor(1, initializer=lower_priority, initargs=(0,)) as pool:
        assert pool.submit(_niceness).result() == before
