"""The periodic cycle: never at start, every period_s after; a failed cycle is logged and
tried again; the server runs it and hands out its holds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from retention_helpers import T0, Clock, Env

from redactor.ledger.ledger import Event
from redactor.retention import RetentionService


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_the_cycle_waits_a_period_then_destroys_and_survives_a_failed_cycle(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(T0 + timedelta(days=60))
    rec = env.put("cam-1")
    svc = RetentionService.open(env.config(period_s=0.3), clock)
    moved = env.root / "archive-away"
    env.archive.rename(moved)  # the first cycles fail: the archive is unmounted
    try:
        with caplog.at_level(logging.ERROR, logger="redactor.retention.sweep"):
            svc.start()
            assert wait_for(lambda: "retention cycle failed" in caplog.text)
        assert "is not a folder" in caplog.text
        moved.rename(env.archive)
        assert wait_for(lambda: bool(svc.ledger.entries(event=Event.DESTROYED)))
        assert not env.exists(rec)
        assert [e.event for e in svc.ledger.entries()] == [Event.DESTROYED]
        assert wait_for(lambda: svc.retention.last_report is not None)
        env.verify_ledger(svc)
    finally:
        svc.close()


def test_starting_never_destroys_at_once(env: Env) -> None:
    clock = Clock(T0 + timedelta(days=60))
    rec = env.put("cam-1")
    svc = RetentionService.open(env.config(period_s=3600), clock)
    svc.start()
    time.sleep(0.3)
    svc.close()  # stops promptly, mid-wait
    assert env.exists(rec) and svc.retention.last_report is None


def test_disabled_retention_does_not_run_but_holds_work(env: Env, clock: Clock) -> None:
    rec = env.put("cam-1")
    clock.advance(days=60)
    with RetentionService.open(env.config(enabled=False, period_s=0.05), clock) as svc:
        svc.start()
        svc.holds.place(rec, "kept", "Kim")
        time.sleep(0.3)
        assert env.exists(rec) and svc.retention.last_report is None


def test_the_server_runs_the_cycle_and_hands_out_its_holds(env: Env) -> None:
    from support.fakes import EmptyDetector

    from redactor.server.app import create_server

    old, held = env.put("cam-1"), env.put("cam-2")
    config = env.config(period_s=0.3)
    running = create_server(config, "127.0.0.1:0", detector_factory=lambda n, c: EmptyDetector())
    try:
        assert running.retention is not None
        running.retention.holds.place(held, "investigation", "Kim", case_id="C-1")
        svc = running.retention
        # recordings of 2024: long past 30 days by the server's clock
        assert wait_for(lambda: bool(svc.ledger.entries(event=Event.DESTROYED)))
        assert not env.exists(old) and env.exists(held)
        assert [e.event for e in svc.ledger.entries()] == [Event.HOLD_PLACED, Event.DESTROYED]
        env.verify_ledger(svc)
        # the server also serves cases over the same ledger, their overdue count a metric
        assert running.cases is not None and running.cases.holds is svc.holds
        metric = running.engine.metrics.registry.get_sample_value("redactor_cases_overdue")
        assert metric == 0
    finally:
        running.stop(0)
    assert env.exists(held)
