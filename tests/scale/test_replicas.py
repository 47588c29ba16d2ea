"""Live streams across identical replicas (issue 26): three real servers as processes on
127.0.0.1, the relay's client balancing over them with gRPC round_robin, a full server
refusing at the header, a server killed with SIGKILL mid-stream, and one drained by SIGTERM.

What the relay writes is only what a server answered: frames in flight on a dead server are
counted lost, never passed on. The servers run the light detection profile of the fault
tests (one real model) on a small picture, so three fit on two cores."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from faults.fault_helpers import ServerProcess, source_video, start_server, write_config
from grpc_health.v1 import health_pb2, health_pb2_grpc

from redactor.clients.client import OutFrame, RedactorClient
from redactor.clients.relay import RelayResult, camera_access_units, relay
from redactor.v1 import redactor_pb2 as pb

pytestmark = [pytest.mark.data]

SIZE = (320, 240)  # 0.768 Mpx a frame: 7.68 Mpx/s at 10 fps
SERVICE_STATUSES = {"REDACTED", "FULLY_MASKED", "DROPPED"}  # what only a server sends


def start_servers(folder: Path, extras: list[str], server: str = "") -> list[ServerProcess]:
    """One server per `extras` (TOML appended to its config), started in parallel;
    `server` adds lines to each one's [server] table."""

    def one(i: int) -> ServerProcess:
        site = folder / f"s{i}"
        site.mkdir(parents=True, exist_ok=True)
        config = write_config(site, extra=extras[i])
        text = config.read_text()
        config.write_text(text.replace("[server]\n", f"[server]\n{server}", 1))
        return start_server(config, site / "server.log")

    with ThreadPoolExecutor(len(extras)) as pool:
        return list(pool.map(one, range(len(extras))))


def stop_all(servers: list[ServerProcess]) -> None:
    for s in servers:
        if s.proc.poll() is None:
            s.kill()


def addresses(servers: list[ServerProcess]) -> str:
    return ",".join(s.address for s in servers)


def health(address: str) -> str:
    with grpc.insecure_channel(address) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return source_video()


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    """Three replicas, and a fourth that can carry one small stream only (1 Mpx/s)."""
    extra = ["", "", "", "[limits]\ncapacity_mpx_s = 1.0\nfull_below_mpx_s = 0.5\n"]
    servers = start_servers(tmp_path_factory.mktemp("four"), extra)
    try:
        yield servers
    finally:
        stop_all(servers)


def warm_up(client: RedactorClient, servers: int) -> None:
    """Connects the channel to every server: round_robin spreads calls over the servers
    it is connected to, and a fresh channel connects to them one by one."""
    for _ in range(3 * servers):
        client.health()
    time.sleep(0.2)


def _stream(client: RedactorClient, clip: Path, frames: int, **kw: object) -> RelayResult:
    return relay(
        client, str(clip), size=SIZE, max_frames=frames, realtime=False, camera="cam-1", **kw
    )  # type: ignore[arg-type]


def test_twelve_streams_spread_over_three_servers(four: list[ServerProcess], clip: Path) -> None:
    three = four[:3]
    with RedactorClient(addresses(three)) as client, ThreadPoolExecutor(12) as pool:
        warm_up(client, len(three))
        results = list(pool.map(lambda _: _stream(client, clip, 8), range(12)))
    by_server = [r.servers[0] for r in results]
    assert sorted(by_server.count(s.address) for s in three) == [4, 4, 4], by_server
    assert all(r.frames_out == r.frames_in == 8 and r.lost == 0 for r in results)
    assert all(set(r.statuses) <= SERVICE_STATUSES for r in results)


def test_a_full_server_refuses_at_the_header_and_the_relay_goes_elsewhere(
    four: list[ServerProcess], clip: Path
) -> None:
    full = four[3]
    hold = threading.Event()

    def slow_frames() -> Iterator[OutFrame]:
        _, aus = camera_access_units(str(clip), SIZE, 3)
        for seq, ts, au in aus:
            yield OutFrame(seq, ts, au)
        hold.wait(60)

    header = pb.StreamHeader(
        camera_id="cam-1",
        recipient="police-112",
        format=pb.PIXEL_FORMAT_H264,
        width=SIZE[0],
        height=SIZE[1],
        fps=10.0,
    )
    with RedactorClient(full.address) as one:
        events = one.stream_events(header, slow_frames())
        first = next(events)
        assert first.WhichOneof("kind") == "accepted" and first.accepted.server == full.address
        assert health(full.address) == "NOT_SERVING"  # full: readiness and relays leave it
        with pytest.raises(grpc.RpcError) as refused:
            list(one.stream_events(header, iter(())))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "this server is full: it carries 1 streams, 0.8 of 1.0 Mpx/s" in str(
            refused.value.details()
        )
        # over it and another, the relay lands every stream: a refusal sends it to the next
        with RedactorClient(addresses([full, four[0]])) as pair:
            results = [_stream(pair, clip, 5) for _ in range(4)]
        assert all(r.frames_out == r.frames_in == 5 and r.lost == 0 for r in results)
        # (its health says NOT_SERVING, so round_robin mostly skips it without asking; a
        # stream that asks anyway is refused and sent on)
        assert {r.servers[-1] for r in results} == {four[0].address}
        hold.set()
        for _ in events:
            pass
    deadline = time.monotonic() + 10
    while health(full.address) != "SERVING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert health(full.address) == "SERVING"  # room again once the stream ended


def _relay_in_thread(
    client: RedactorClient, clip: Path, frames: int
) -> tuple[threading.Thread, RelayResult, list[BaseException]]:
    result = RelayResult()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            relay(
                client,
                str(clip),
                size=SIZE,
                max_frames=frames,
                realtime=True,
                rate=10.0,
                camera="cam-1",
                result=result,
            )
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, result, errors


def _wait_for(cond: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)
    assert cond(), "timed out"  # type: ignore[operator]


def test_a_server_killed_mid_stream_moves_its_stream_without_a_leak(
    tmp_path: Path, clip: Path
) -> None:
    servers = start_servers(tmp_path, ["", ""])
    try:
        with RedactorClient(addresses(servers)) as client:
            t, result, errors = _relay_in_thread(client, clip, 80)
            _wait_for(lambda: result.frames_out >= 20)
            victim = next(s for s in servers if s.address == result.servers[0])
            victim.proc.send_signal(signal.SIGKILL)
            t.join(60)
        assert not errors, errors
        assert len(result.servers) == 2 and result.servers[1] != victim.address
        assert result.frames_in == 80
        assert result.frames_out + result.lost == result.frames_in
        assert result.lost <= 10, result.summary()  # at most what was in flight
        assert len(result.gaps_s) == 1 and result.gaps_s[0] < 1.0, result.gaps_s
        assert set(result.statuses) <= SERVICE_STATUSES, result.statuses
    finally:
        stop_all(servers)


def test_sigterm_drains_a_server_and_its_stream_moves_losing_nothing(
    tmp_path: Path, clip: Path
) -> None:
    servers = start_servers(tmp_path, ["", ""], server="drain_s = 10.0\n")
    try:
        with RedactorClient(addresses(servers)) as client:
            t, result, errors = _relay_in_thread(client, clip, 60)
            _wait_for(lambda: result.frames_out >= 15)
            leaving = next(s for s in servers if s.address == result.servers[0])
            leaving.proc.send_signal(signal.SIGTERM)
            _wait_for(lambda: len(result.servers) == 2, timeout=10)
            assert leaving.proc.wait(20) == 0  # it went as soon as its stream had moved
            t.join(60)
        assert not errors, errors
        assert result.drained == 1 and result.lost == 0, result.summary()
        assert result.frames_out == result.frames_in == 60
        assert result.gaps_s and max(result.gaps_s) < 1.0, result.gaps_s
        assert set(result.statuses) <= SERVICE_STATUSES
    finally:
        stop_all(servers)
