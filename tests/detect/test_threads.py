"""Detection threads run at a lower CPU priority than the frame path."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from redactor.detect.threads import lower_priority


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(
    not hasattr(os, "setpriority"), reason="no per-thread priorities on this platform"
)
def test_lower_priority_applies_to_the_pool_threads_only() -> None:
    before = _niceness()
    with ThreadPoolExecutor(2, initializer=lower_priority, initargs=(5,)) as pool:
        inside = set(pool.map(lambda _: _niceness(), range(4)))
    assert inside == {min(19, before + 5)}
    assert _niceness() == before  # the calling thread (the frame path) keeps its priority
    with ThreadPoolExecutor(1, initializer=lower_priority, initargs=(0,)) as pool:
        assert pool.submit(_niceness).result() == before


@pytest.mark.skipif(
    not hasattr(os, "setpriority"), reason="no per-thread priorities on this platform"
)
def test_a_pool_started_from_a_niced_thread_gets_its_own_niceness_not_the_sum() -> None:
    """A profile's detector pool is started by the first thread that submits to it (a
    live stream's detection thread): its threads get their niceness above the
    process's, not above that thread's; a lower priority already there is kept."""
    before = _niceness()

    def start_inner(nice: int) -> int:
        with ThreadPoolExecutor(1, initializer=lower_priority, initargs=(nice,)) as inner:
            return inner.submit(_niceness).result()

    with ThreadPoolExecutor(1, initializer=lower_priority, initargs=(5,)) as outer:
        assert outer.submit(start_inner, 5).result() == min(19, before + 5)
        assert outer.submit(start_inner, 2).result() == min(19, before + 5)  # never raised back up
        assert outer.submit(start_inner, 9).result() == min(19, before + 9)
