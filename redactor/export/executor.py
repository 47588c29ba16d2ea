"""Where an export's segment tasks run: threads in this process, or a Dask cluster.

Both backends take the same tasks (redactor.export.tasks) and hand back
concurrent.futures futures, so the coordinator (redactor.export.service) has
one loop for both.

- `LocalBackend`, the embedded default: a pool of `export.threads` threads
  over segments, each with its own detector. Threads rather than processes:
  onnxruntime, libx264, the decoder and the Numba kernels release the GIL,
  the detectors load once, and nothing is copied between processes.
- `DaskBackend`: a `distributed.Client` on `export.cluster.scheduler`. Tasks
  are submitted impure (never merged) with `export.cluster.retries`; a task
  whose worker dies is run again on another by the scheduler itself. The
  service stays the only writer of the ledger and holder of the key: workers
  get tasks and return detections or encoded segments.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future, ThreadPoolExecutor
from typing import Protocol

from redactor.config import ClusterConfig
from redactor.detect.base import Detector
from redactor.errors import ClusterUnavailable, RedactorError
from redactor.export import tasks

log = logging.getLogger(__name__)

DetectorFactory = Callable[[str], Detector]  # profile name → detector


class Backend(Protocol):
    name: str
    stall_s: float | None  # longest wait for any task to finish before giving up; None = none
    task_cores: int | None  # cores each task may use; None = all (threads in this process)

    def detect(
        self, task: tasks.DetectTask, tick: tasks.Tick | None = None
    ) -> Future[tasks.SegmentFound]:
        """`tick` after each frame where the backend can tell (in process only)."""
        ...

    def encode(
        self, task: tasks.EncodeTask, tick: tasks.Tick | None = None
    ) -> Future[tasks.EncodedSegment]: ...

    def check(self) -> None:
        """Raises ClusterUnavailable where tasks cannot run now."""
        ...

    def failure(self, e: BaseException) -> BaseException:
        """What a task's exception means for the export (the error the job fails with)."""
        ...

    def close(self) -> None: ...


class LocalBackend:
    """Segments on a thread pool in this process; one detector per pool thread."""

    name = "in-process"
    stall_s: float | None = None
    task_cores: int | None = None

    def __init__(self, threads: int, detector_factory: DetectorFactory, stop: threading.Event):
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="export-segment")
        self._factory = detector_factory
        self._stop = stop
        self._local = threading.local()
        self._lock = threading.Lock()
        self._detectors: list[Detector] = []

    def detect(
        self, task: tasks.DetectTask, tick: tasks.Tick | None = None
    ) -> Future[tasks.SegmentFound]:
        return self._pool.submit(self._detect, task, tick)

    def encode(
        self, task: tasks.EncodeTask, tick: tasks.Tick | None = None
    ) -> Future[tasks.EncodedSegment]:
        return self._pool.submit(tasks.run_encode, task, self._stop.is_set, tick)

    def check(self) -> None:
        return None

    def failure(self, e: BaseException) -> BaseException:
        return e

    def _detect(self, task: tasks.DetectTask, tick: tasks.Tick | None) -> tasks.SegmentFound:
        return tasks.run_detect(task, self._detector, self._stop.is_set, tick)

    def _detector(self, profile: str) -> Detector:
        """This thread's detector of `profile`, made on first use."""
        mine: dict[str, Detector] = getattr(self._local, "detectors", {})
        self._local.detectors = mine
        if profile not in mine:
            mine[profile] = self._factory(profile)
            with self._lock:
                self._detectors.append(mine[profile])
        return mine[profile]

    def close(self) -> None:
        """Waits for running tasks (they stop at their next frame once `stop` is set)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for d in self._detectors:
                d.close()
            self._detectors.clear()


class DaskBackend:
    """Segments on a Dask cluster; connects at start and fails there if it cannot."""

    name = "Dask"

    def __init__(self, cfg: ClusterConfig) -> None:
        self.address = cfg.scheduler
        self.stall_s: float | None = cfg.task_timeout_s
        self.task_cores: int | None = cfg.task_cores
        self._cfg = cfg
        self._lock = threading.Lock()
        self._connect()
        log.info("exports run on the Dask cluster at %s", cfg.scheduler)

    def _connect(self) -> None:
        from distributed import Client

        cfg = self._cfg
        try:
            self.client = Client(  # type: ignore[no-untyped-call]
                cfg.scheduler, timeout=cfg.connect_timeout_s, set_as_default=False
            )
        except (OSError, TimeoutError) as e:
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {cfg.scheduler} "
                f"(export.cluster.scheduler) within {cfg.connect_timeout_s:g} s: {e}"
            ) from e
        self._pool: Executor = self.client.get_executor(  # type: ignore[no-untyped-call]
            retries=cfg.retries, pure=False
        )

    def detect(
        self, task: tasks.DetectTask, tick: tasks.Tick | None = None
    ) -> Future[tasks.SegmentFound]:
        return self._pool.submit(tasks.detect_segment, task)

    def encode(
        self, task: tasks.EncodeTask, tick: tasks.Tick | None = None
    ) -> Future[tasks.EncodedSegment]:
        return self._pool.submit(tasks.encode_segment, task)

    def check(self) -> None:
        """Reconnects where an earlier export lost the scheduler; fails if it is still gone."""
        with self._lock:
            if self.client.status != "running":
                self.close()
                self._connect()
        try:
            workers = self.client.scheduler_info(n_workers=-1)["workers"]
        except (OSError, TimeoutError) as e:
            raise ClusterUnavailable(f"the Dask scheduler at {self.address}: {e}") from e
        if not workers:
            raise ClusterUnavailable(f"the Dask scheduler at {self.address} has no workers")

    def failure(self, e: BaseException) -> BaseException:
        return cluster_failure(e, self.address)

    def close(self) -> None:
        try:
            self.client.close(timeout=5)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as e:
            log.debug("closing the Dask client: %s", e)


def cluster_failure(e: BaseException, address: str) -> BaseException:
    """What a Dask task's exception means for the export: its own error where it raised one,
    else the cluster's trouble named for an operator."""
    if isinstance(e, RedactorError):
        return e
    if type(e).__name__ == "KilledWorker":  # distributed's; not imported where Dask is absent
        last = getattr(getattr(e, "last_worker", None), "address", "unknown")
        tries = getattr(e, "allowed_failures", "several")
        return ClusterUnavailable(
            f"a segment task was lost with its worker {tries} times on the Dask cluster at "
            f"{address} (last on {last}): look for workers killed for memory or crashing "
            "in their logs"
        )
    if isinstance(e, CancelledError | OSError | TimeoutError):
        why = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        return ClusterUnavailable(f"lost the Dask scheduler at {address} during the export ({why})")
    return e


def backend(
    cluster: ClusterConfig, threads: int, detector_factory: DetectorFactory, stop: threading.Event
) -> Backend:
    """The configured backend: the cluster where export.cluster.scheduler is set."""
    if cluster.scheduler:
        return DaskBackend(cluster)
    return LocalBackend(threads, detector_factory, stop)
