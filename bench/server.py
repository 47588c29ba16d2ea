"""A real redactor server in a child process, measured from outside.

The live figures come from a server in its own process (`redactor serve`, the
command operators run) so that its CPU time and memory are its own: the
benchmark's clients (decoding, encoding, threads) never count as the server's.
CPU time and resident memory are read from /proc (Linux); elsewhere they are None.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.request import urlopen

from prometheus_client.parser import text_string_to_metric_families

from redactor.config import Config
from redactor.detect.threads import usable_cpus

START_TIMEOUT_S = 180.0  # model loading on a busy 2-core machine
STOP_TIMEOUT_S = 30.0
SAMPLE_PERIOD_S = 0.1
_READY = "redactor serving on "

# Keeps the benchmark's server away from the default archive, ledger and key under var/.
_CONFIG = """\
[export]
archive_root = "{root}/archive"
output_dir = "{root}/exports"
ledger_path = "{root}/ledger.sqlite"
key_path = "{root}/key.pem"
"""
# Threads a gRPC server keeps beyond one per live stream (single images, exports, health).
SPARE_WORKERS = 4


def free_port() -> int:
    """A port free on 127.0.0.1 now (the OS's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, all its threads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the ")" the fields start at 3 (state): utime is field 14, stime 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class Window:
    """CPU share and peak resident memory of the server while a `with` block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss: int | None = None
        self.result: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-rss", daemon=True)
        self._cpu0: float | None = None
        self._t0 = 0.0

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_PERIOD_S):
            self._note()

    def _note(self) -> None:
        rss = _rss_bytes(self.pid)
        if rss is not None:
            self.peak_rss = max(self.peak_rss or 0, rss)

    def __enter__(self) -> Window:
        self._cpu0 = _cpu_seconds(self.pid)
        self._t0 = time.perf_counter()
        self._note()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._note()
        wall = time.perf_counter() - self._t0
        cpu1 = _cpu_seconds(self.pid)
        cpu = None if cpu1 is None or self._cpu0 is None else cpu1 - self._cpu0
        self.result = {
            "wall_s": wall,
            "server_cpu_s": cpu,
            # 1.0 = every usable core busy for the whole window
            "server_cpu_share": None if cpu is None else cpu / (wall * usable_cpus()),
            "server_cores_busy": None if cpu is None else cpu / wall,
            "server_peak_rss_bytes": self.peak_rss,
        }


class ServerProcess:
    """`redactor serve` on a free loopback port, with its own archive under `workdir`."""

    def __init__(
        self,
        workdir: Path,
        log: Path,
        streams: int = 0,
        config: str = "",
        listen: str = "127.0.0.1:0",
    ) -> None:
        """`streams`: concurrent live streams the run needs; the stream limits (and gRPC
        threads) are raised to fit where the embedded defaults are lower. `config`: more
        TOML for the server's configuration file (tables other than those set here)."""
        self.workdir = workdir
        self.streams = streams
        self.extra = config
        self.listen = listen  # a fixed port lets a killed server come back where relays look
        self.log_path = log
        self.proc: subprocess.Popen[str] | None = None
        self.address = ""
        self.metrics_port = 0  # Prometheus /metrics on 127.0.0.1, once started
        self._log: IO[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ServerProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "server.toml"
        text = _CONFIG.format(root=self.workdir.resolve().as_posix())
        defaults = Config()
        if self.streams > min(defaults.limits.max_streams, defaults.limits.max_streams_per_caller):
            text += (
                f"\n[limits]\nmax_streams = {max(self.streams, defaults.limits.max_streams)}\n"
                f"max_streams_per_caller = {max(self.streams, defaults.limits.max_streams_per_caller)}\n"
            )
            text += f"\n[server]\nworkers = {max(self.streams + SPARE_WORKERS, defaults.server.workers)}\n"
        config.write_text(text + (f"\n{self.extra}\n" if self.extra else ""))
        self._log = self.log_path.open("a")
        self.metrics_port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "redactor.cli",
                "serve",
                "--config",
                str(config),
                "--address",
                self.listen,
                "--metrics-port",
                str(self.metrics_port),
                "--log-level",
                "WARNING",
                "--no-console",  # several may run at once; the console is measured by bench.review
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        found: list[str] = []
        ready = threading.Event()

        def read(stream: IO[str]) -> None:  # keeps the pipe drained for the server's lifetime
            for line in stream:
                if line.startswith(_READY) and not found:
                    found.append(line[len(_READY) :].split()[0])
                    ready.set()
                if self._log is not None and not self._log.closed:
                    self._log.write(line)
            ready.set()

        self._reader = threading.Thread(target=read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()
        if not ready.wait(START_TIMEOUT_S) or not found:
            code = self._exit_code(closed=ready.is_set())
            self.stop()
            if code is not None:  # it exited (e.g. a bad configuration): say so, with why
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError(
                    f"redactor serve exited with code {code} before it reported its address "
                    f"(log {self.log_path}):\n" + "\n".join(tail)
                )
            raise RuntimeError(
                f"redactor serve did not report its address within {START_TIMEOUT_S:.0f} s "
                f"(see {self.log_path})"
            )
        self.address = found[0]
        return self

    def _exit_code(self, closed: bool) -> int | None:
        """The server's exit code if it has exited; with its output `closed`, it is exiting."""
        assert self.proc is not None
        try:
            return self.proc.wait(STOP_TIMEOUT_S) if closed else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("server not started")
        return self.proc.pid

    def window(self) -> Window:
        return Window(self.pid)

    def samples(self, *names: str) -> tuple[float, ...]:
        """The server's unlabelled Prometheus samples `names` (a counter's `..._total`) now,
        from one scrape; 0 for one it has none of yet."""
        text = urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).read().decode()
        found = {
            sample.name: float(sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if not sample.labels
        }
        return tuple(found.get(name, 0.0) for name in names)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the server stops gracefully
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self._log is not None:
            self._log.close()
        self.proc = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
