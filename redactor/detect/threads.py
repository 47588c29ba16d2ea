"""Detection runs at a lower CPU priority than the frame path.

On a live stream a frame's decode, masking and encode are on the critical path; a
detection costs many times as much CPU and its result only has to be recent. With
more runnable threads than cores, equal priority slows every frame to the pace of
the detectors. Detection threads therefore raise their own niceness (Linux applies
it per thread): the frame path runs first, detection takes what is left
(docs/detection.md#thread-priority).
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def lower_priority(nice: int) -> None:
    """Sets the calling thread's niceness to `nice` above the process's (its main
    thread's), at most 19, unless it is already lower in priority; a ThreadPoolExecutor
    initializer. Relative to the process, not to the thread that happened to start
    the worker: a pool's threads are started by whoever submits first, and a profile's
    pool started from a detection thread would otherwise end at twice the niceness
    (19 for everything, so a sweep and live detection at equal priority). Where the
    platform cannot, detection runs at normal priority."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        target = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + nice)
        os.setpriority(os.PRIO_PROCESS, tid, max(target, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError as e:  # not fatal: slower frames under load, never unmasked ones
        log.warning("cannot lower the priority of detection thread %d: %s", tid, e)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the platform tells), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
