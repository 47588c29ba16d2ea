"""A local Dask cluster on 127.0.0.1 for bench.export and the cluster tests: `dask
scheduler` and `dask worker` processes, as `make cluster` starts them, on a free port
unless one is given; every process is killed on exit.

Workers run without a nanny, so each worker is the process started here: killing it
kills the worker, and its CPU time can be read from /proc (`cpu_seconds`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DASK = str(Path(sys.executable).parent / "dask")
START_S = 120.0
# Dask's statistical profiler samples workers' stacks for a dashboard nobody reads here.
WORKER_ENV = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    folder: Path = Path()

    def add_worker(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """One more worker process (one thread, no nanny: killing it kills the worker)."""
        n = len(self.workers)
        log = (self.folder / f"worker-{n}.log").open("wb")
        proc = subprocess.Popen(
            [
                DASK,
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                f"local-worker-{n}",
                "--local-directory",
                str(self.folder / f"worker-{n}"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **WORKER_ENV, **(env or {})},
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_S, set_as_default=False) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(n, timeout=START_S)

    def worker_pids(self) -> dict[str, int]:
        """Worker address → process id, as the scheduler sees them."""
        from distributed import Client

        with Client(self.address, timeout=START_S, set_as_default=False) as client:  # type: ignore[no-untyped-call]
            return {a: int(p) for a, p in client.run(os.getpid).items()}

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the scheduler and the workers so far."""
        return sum(_proc_cpu(p.pid) for p in [self.scheduler, *self.workers])

    def log(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.folder.glob("*.log"))
        )


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), here from the state (field 3) on
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU seconds (all threads) and its waited-for children's."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kills a process started here and all it started (its own session)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


@contextmanager
def dask_cluster(
    folder: Path, workers: int = 2, env: dict[str, str] | None = None, port: int = 0
) -> Iterator[Cluster]:
    """A scheduler on 127.0.0.1 (a free port unless given) and `workers` single-threaded
    workers."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    info.unlink(missing_ok=True)  # an earlier cluster's: its address is dead
    log = (folder / "scheduler.log").open("wb")
    scheduler = subprocess.Popen(
        [
            DASK,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cluster = Cluster("", scheduler, folder=folder)
    try:
        deadline = time.monotonic() + START_S
        while not cluster.address:
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start:\n{cluster.log()}")
            time.sleep(0.1)
            try:
                cluster.address = json.loads(info.read_text())["address"]
            except (OSError, ValueError, KeyError):
                continue  # not written yet, or half-way
        for _ in range(workers):
            cluster.add_worker(env)
        if workers:
            cluster.wait_for_workers(workers)
        yield cluster
    finally:
        for proc in [*cluster.workers, scheduler]:
            kill(proc)
