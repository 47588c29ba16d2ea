"""A local Dask cluster for bench.export: `dask scheduler` and `dask worker` processes on
127.0.0.1, as `make cluster` starts them, on a free port; all killed on exit.

Workers run without a nanny, so each worker is the process started here and its
CPU time can be read from /proc (`cpu_seconds`).
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


@dataclass
class LocalCluster:
    address: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)  # scheduler first

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the scheduler and the workers so far."""
        return sum(_proc_cpu(p.pid) for p in self.procs)


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


@contextmanager
def local_cluster(workers: int, folder: Path) -> Iterator[LocalCluster]:
    """A scheduler and `workers` one-thread workers; the cluster is ready when yielded."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    info.unlink(missing_ok=True)
    cluster = LocalCluster("")

    def start(args: list[str], log: str) -> None:
        with (folder / log).open("wb") as out:
            cluster.procs.append(
                subprocess.Popen(
                    [DASK, *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own group: killed with all it started
                )
            )

    try:
        start(
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(info)],
            "scheduler.log",
        )
        deadline = time.monotonic() + START_S
        while not cluster.address:
            if cluster.procs[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start (see {folder})")
            time.sleep(0.1)
            try:
                cluster.address = json.loads(info.read_text())["address"]
            except (OSError, ValueError, KeyError):
                continue  # not written yet, or half-way
        for n in range(workers):
            start(
                ["worker", cluster.address, "--host", "127.0.0.1", "--nthreads", "1"]
                + ["--no-nanny", "--no-dashboard", "--name", f"bench-worker-{n}"]
                + ["--local-directory", str(folder / f"worker-{n}")],
                f"worker-{n}.log",
            )
        with Client(  # type: ignore[no-untyped-call]
            cluster.address, timeout=START_S, set_as_default=False
        ) as client:
            client.wait_for_workers(workers, timeout=START_S)
        yield cluster
    finally:
        for p in reversed(cluster.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            p.wait(timeout=30)
