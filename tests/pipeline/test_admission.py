"""Admission of live streams by capacity, and draining (redactor.pipeline.admission)."""

from __future__ import annotations

import pytest

from redactor.config import Limits
from redactor.errors import Draining, LimitExceeded
from redactor.pipeline.admission import Admission, stream_mpx_s
from redactor.pipeline.stream import StreamSpec
from redactor.types import PixelFormat

HD = StreamSpec("cam-1", "police-112", "", PixelFormat.H264, 1280, 720, 10.0)
FULL_HD = StreamSpec("cam-2", "police-112", "", PixelFormat.H264, 1920, 1080, 25.0)
UNSIZED = StreamSpec("cam-3", "police-112", "", PixelFormat.H264)


def test_a_stream_is_charged_its_pixel_rate_and_an_unsized_one_as_1080p25() -> None:
    assert stream_mpx_s(HD) == pytest.approx(9.216)
    assert stream_mpx_s(FULL_HD) == pytest.approx(51.84)
    assert stream_mpx_s(UNSIZED) == pytest.approx(51.84)


def test_streams_beyond_capacity_are_refused_naming_the_load() -> None:
    changes: list[bool] = []
    adm = Admission(Limits(capacity_mpx_s=62.0), on_change=changes.append)
    with adm.stream(FULL_HD, on_drain=lambda _: None):
        assert changes == []  # 10.2 Mpx/s free: still room for a 720p 10 fps camera
        with adm.stream(HD, on_drain=lambda _: None):
            assert changes == [False]  # full now: health says NOT_SERVING
            with pytest.raises(LimitExceeded) as e, adm.stream(HD, on_drain=lambda _: None):
                pass
            assert str(e.value) == (
                "this server is full: it carries 2 streams, 61.1 of 62.0 Mpx/s "
                "(limits.capacity_mpx_s), and a 1280x720 10 fps stream needs 9.2 more; "
                "open it on another server"
            )
        assert changes == [False, True]
    assert adm.load().streams == 0 and adm.load().mpx_s == 0.0


def test_a_stream_larger_than_what_is_free_is_refused_at_once() -> None:
    adm = Admission(Limits(capacity_mpx_s=40.0))
    with (
        pytest.raises(LimitExceeded, match="needs 51.8 more"),
        adm.stream(FULL_HD, on_drain=lambda _: None),
    ):
        pass
    with (
        pytest.raises(LimitExceeded, match="charged as 1920x1080 25 fps"),
        adm.stream(UNSIZED, on_drain=lambda _: None),
    ):
        pass


def test_no_capacity_set_admits_by_count_only() -> None:
    changes: list[bool] = []
    adm = Admission(Limits(max_streams=2), on_change=changes.append)
    with adm.stream(FULL_HD, on_drain=lambda _: None), adm.stream(FULL_HD, on_drain=lambda _: None):
        assert changes == [False]  # max_streams reached: not serving more
    assert changes == [False, True]


def test_draining_tells_open_streams_and_refuses_new_ones() -> None:
    changes: list[bool] = []
    told: list[float] = []
    adm = Admission(Limits(), on_change=changes.append)
    with adm.stream(HD, on_drain=told.append):
        assert adm.drain(7.5) == 1
        assert told == [7.5] and changes == [False] and adm.draining
        with (
            pytest.raises(Draining, match="open the stream on another server"),
            adm.stream(HD, on_drain=told.append),
        ):
            pass
    assert changes == [False]  # still draining with no stream left: never serving again


def test_each_stream_also_pays_the_overhead() -> None:
    # this machine's fit (docs/scaling.md): one 1080p 25 fps stream, or four 720p 10 fps
    adm = Admission(Limits(capacity_mpx_s=56.9, stream_overhead_mpx_s=5.0))
    with adm.stream(FULL_HD, on_drain=lambda _: None) as charged:
        assert charged == pytest.approx(56.84)
    with (
        adm.stream(HD, on_drain=lambda _: None),
        adm.stream(HD, on_drain=lambda _: None),
        adm.stream(HD, on_drain=lambda _: None),
        adm.stream(HD, on_drain=lambda _: None),
    ):
        with pytest.raises(LimitExceeded), adm.stream(HD, on_drain=lambda _: None):
            pass
