"""Detection runs at a lower CPU priority than the frame path.

On a live stream a frame's decode, masking and encode are on the critical path
and cost ~20 ms at 1080p; a detection costs hundreds of ms of CPU and its result
only has to be recent. With more runnable threads than cores (four detector
threads per stream on two cores), equal priority slows every frame to the pace
of the detectors. Detection threads therefore raise their own niceness (Linux
applies it per thread): the frame path runs first, detection takes what is left.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def lower_priority(nice: int) -> None:
    """Raises the calling thread's niceness by `nice` (at most to 19); a ThreadPoolExecutor
    initializer. Where the platform cannot, detection runs at normal priority."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError as e:  # not fatal: slower frames under load, never unmasked ones
        log.warning("cannot lower the priority of detection thread %d: %s", tid, e)
