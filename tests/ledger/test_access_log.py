"""The access log on a real signed SQLite ledger with a controlled clock: coalesced views,
the monthly report and its flags, the monthly review, and the redactor-audit access-log CLI."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from redactor.clients import access_report
from redactor.config import AccessLogConfig
from redactor.errors import Conflict, FailedPrecondition, InvalidInput, MissingField
from redactor.export import keys
from redactor.ledger import Event, Ledger
from redactor.ledger.access_log import (
    AccessLog,
    ViewAction,
    monthly_report,
    parse_month,
)

KST = timedelta(hours=9)
# 2026-11-10 10:00 KST: inside the working day
T0 = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
FOOTAGE = {
    "export_id": "exp-1",
    "camera_id": "cam-7",
    "recipient": "police-112",
    "source": "cam-7/20261103T081500.avi",
}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "signing_key.pem"
    keys.load_or_create(path)
    return path


@pytest.fixture
def ledger(tmp_path: Path, key_path: Path, clock: Clock) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite", keys.load_or_create(key_path), clock=clock) as led:
        yield led


@pytest.fixture
def log(ledger: Ledger, clock: Clock) -> AccessLog:
    return AccessLog(ledger, AccessLogConfig(window_s=60), clock)


def view(
    log: AccessLog,
    account: str = "rob",
    action: ViewAction = "frame_original",
    client: str = "10.0.0.5",
    frame: int = 0,
    **footage: str,
) -> object:
    return log.record(account, action, client, **{**FOOTAGE, **footage}, detail={"frame": frame})


def viewed(ledger: Ledger) -> list[dict[str, object]]:
    return [{"actor": e.actor, "at": e.at, **e.detail} for e in ledger.entries(event=Event.VIEWED)]


def test_the_first_view_writes_at_once_and_views_in_its_window_only_count(
    log: AccessLog, ledger: Ledger, clock: Clock
) -> None:
    row = view(log, frame=3)
    assert row is not None
    [e] = ledger.entries()
    assert e.event is Event.VIEWED and e.actor == "rob" and e.at == T0
    assert (e.export_id, e.camera_id, e.recipient) == ("exp-1", "cam-7", "police-112")
    assert e.detail == {
        "action": "frame_original",
        "client": "10.0.0.5",
        "source": "cam-7/20261103T081500.avi",
        "frame": 3,
        "window_s": 60.0,
        "previous_window_views": 0,
        "previous_window_at": "",
    }
    for i in range(4):  # scrubbing: frames 4..7 within the minute
        clock.advance(10)
        assert view(log, frame=4 + i) is None
    assert len(ledger.entries()) == 1

    clock.advance(20)  # 60 s after the window opened: the next window
    view(log, frame=9)
    rows = viewed(ledger)
    assert len(rows) == 2
    assert rows[1]["frame"] == 9 and rows[1]["at"] == T0 + timedelta(seconds=60)
    assert rows[1]["previous_window_views"] == 5
    assert rows[1]["previous_window_at"] == T0.isoformat()


def test_accounts_exports_actions_and_clients_are_separate_keys(
    log: AccessLog, ledger: Ledger, clock: Clock
) -> None:
    view(log)
    view(log, client="10.0.0.6")
    view(log, action="frame_released")
    view(log, action="thumbnail")
    view(log, account="ann")
    view(log, export_id="exp-2")
    view(log)  # the first key again, inside its window
    rows = viewed(ledger)
    assert len(rows) == 6
    assert {(r["actor"], r["action"], r["client"]) for r in rows} >= {
        ("rob", "frame_original", "10.0.0.6"),
        ("rob", "thumbnail", "10.0.0.5"),
        ("ann", "frame_original", "10.0.0.5"),
    }
    assert all(r["previous_window_views"] == 0 for r in rows)


def test_a_clock_stepping_back_opens_a_window_and_no_client_is_unknown(
    log: AccessLog, ledger: Ledger, clock: Clock
) -> None:
    view(log, client="")
    clock.advance(-5)
    view(log, client="")
    rows = viewed(ledger)
    assert [r["client"] for r in rows] == ["unknown", "unknown"]
    assert rows[1]["previous_window_views"] == 1


def test_bad_views_are_refused_and_write_nothing(log: AccessLog, ledger: Ledger) -> None:
    with pytest.raises(InvalidInput, match="download"):
        log.record("rob", "download", "10.0.0.5", **FOOTAGE)  # type: ignore[arg-type]
    with pytest.raises(MissingField, match="account"):
        log.record("", "thumbnail", "10.0.0.5", **FOOTAGE)
    assert ledger.entries() == []


def test_concurrent_views_give_one_row_per_window_and_an_exact_count(
    log: AccessLog, ledger: Ledger, clock: Clock
) -> None:
    start = threading.Barrier(8)

    def scrub() -> None:
        start.wait()
        for i in range(50):
            view(log, frame=i)

    threads = [threading.Thread(target=scrub) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.entries()) == 1
    clock.advance(60)
    view(log)
    assert viewed(ledger)[1]["previous_window_views"] == 400


def _rows_for(log: AccessLog, clock: Clock, account: str, n: int, **kw: str) -> None:
    """`n` rows for `account`: each view in a window of its own."""
    for _ in range(n):
        view(log, account=account, **kw)
        clock.advance(61)


def test_monthly_report_counts_per_account_and_flags_unusual_volume(
    log: AccessLog, ledger: Ledger, clock: Clock, key_path: Path
) -> None:
    # a November in KST: the month is cut at 00:00 KST, not at UTC midnight
    clock.at = datetime(2026, 11, 1, 0, 5, tzinfo=UTC) - KST  # 2026-11-01 00:05 KST
    view(log, account="night")  # off hours
    clock.at = datetime(2026, 10, 31, 23, 55, tzinfo=UTC) - KST
    view(log, account="october")  # not November
    clock.at = datetime(2026, 12, 1, 0, 1, tzinfo=UTC) - KST
    view(log, account="december")  # not November, although still 30 November in UTC
    clock.at = T0
    _rows_for(log, clock, "amy", 10)
    _rows_for(log, clock, "bob", 12, action="thumbnail", client="10.0.0.8")
    _rows_for(log, clock, "cat", 11, camera_id="cam-9", export_id="exp-9")
    _rows_for(log, clock, "dan", 60, client="10.0.0.66")
    # amy scrubs: one row, five views, then a row reporting them
    view(log, account="amy", action="frame_released")
    for _ in range(4):
        view(log, account="amy", action="frame_released")
    clock.advance(60)
    view(log, account="amy", action="frame_released")
    ledger.append(
        Event.DOWNLOADED,
        export_id="exp-1",
        actor="amy",
        camera_id="cam-7",
        recipient="police-112",
        detail={"artifact": "video", "client": "10.0.0.5"},
    )
    ledger.append(Event.DOWNLOAD_REFUSED, export_id="exp-1", actor="eve", detail={})
    ledger.append(Event.COMPLETED, export_id="exp-1", actor="service")  # not an access

    report = monthly_report(ledger.entries(), 2026, 11, AccessLogConfig())
    by = {a.account: a for a in report.accounts}
    assert set(by) == {"night", "amy", "bob", "cat", "dan", "eve"}
    assert report.accounts[0].account == "dan"  # flagged first
    # rows: night 1, amy 13, bob 12, cat 11, dan 60 → median 12; dan 60 > 3 x 12 and >= 50
    assert report.median_rows == 12 and report.rows == 97
    assert [a.account for a in report.flagged] == ["dan"]
    assert "60 rows" in by["dan"].reason and "median of 12" in by["dan"].reason
    amy = by["amy"]
    assert amy.rows == 13 and amy.downloads == 1
    assert amy.view_rows == {"frame_original": 10, "frame_released": 2}
    assert amy.views == {"frame_original": 10, "frame_released": 6}
    assert amy.clients == ("10.0.0.5",) and amy.exports == ("exp-1",)
    assert not amy.flagged and amy.off_hours_rows == 0
    assert by["bob"].views == {"thumbnail": 12} and by["bob"].clients == ("10.0.0.8",)
    assert by["cat"].cameras == ("cam-9",) and by["cat"].exports == ("exp-9",)
    assert by["night"].off_hours_rows == 1
    assert by["night"].first is not None and by["night"].first.hour == 0
    assert by["eve"].rows == 0 and by["eve"].refused_downloads == 1
    assert report.reviewed is None

    # a quiet month flags nobody: under flag_min_rows, however far above the median
    quiet = monthly_report(ledger.entries(), 2026, 11, AccessLogConfig(flag_min_rows=61))
    assert quiet.flagged == ()


def test_a_month_is_reviewed_once_and_the_ledger_still_verifies(
    log: AccessLog, ledger: Ledger, clock: Clock, key_path: Path
) -> None:
    _rows_for(log, clock, "amy", 3)
    with pytest.raises(FailedPrecondition, match="2026-11 is not over"):
        log.mark_reviewed(2026, 11, "aud", "nothing unusual")
    with pytest.raises(InvalidInput, match="future"):
        log.mark_reviewed(2027, 1, "aud", "nothing unusual")
    clock.at = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    with pytest.raises(MissingField, match="note"):
        log.mark_reviewed(2026, 11, "aud", "  ")
    assert len(ledger.entries()) == 3

    row = log.mark_reviewed(2026, 11, "aud", "nothing unusual")
    assert row.event is Event.ACCESS_LOG_REVIEWED and row.actor == "aud"
    assert row.detail == {
        "month": "2026-11",
        "accounts": 1,
        "flagged": [],
        "rows": 3,
        "note": "nothing unusual",
        "through_seq": 3,
    }
    report = log.report(2026, 11)
    assert report.reviewed is not None and report.reviewed.by == "aud"
    assert report.reviewed.seq == row.seq and report.reviewed.note == "nothing unusual"

    clock.advance(3600)
    with pytest.raises(Conflict, match=r"already reviewed by aud at 2026-12-02 10:00 KST"):
        log.mark_reviewed(2026, 11, "adm", "again")
    assert len(ledger.entries()) == 4
    assert log.report(2026, 10).reviewed is None  # another month is not reviewed

    public = keys.load_public(keys.public_path(key_path))
    assert ledger.verify(public).ok


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026-1", "november", "2026-11-01"])
def test_bad_months_name_the_form(text: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM|month"):
        parse_month(text)


def _audit(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="redactor-audit")
    parser.add_argument("--config", type=Path)
    access_report.add_parser(parser.add_subparsers(dest="command", required=True))
    return access_report.run(parser.parse_args(argv))


def test_the_cli_prints_the_report_and_records_the_review(
    tmp_path: Path,
    log: AccessLog,
    ledger: Ledger,
    clock: Clock,
    key_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock.at = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)  # a month long past
    _rows_for(log, clock, "amy", 2)
    _rows_for(log, clock, "dan", 3, client="10.0.0.66")
    config = tmp_path / "center.toml"
    config.write_text(
        f'[export]\nledger_path = "{ledger.path}"\nkey_path = "{key_path}"\n'
        "[access_log]\nflag_min_rows = 1\nflag_factor = 1.1\n"
    )
    base = ["access-log", "--config", str(config), "--month", "2025-03"]

    assert _audit([*base]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("access log 2025-03 (KST): 5 rows, 2 accounts")
    lines = out.splitlines()
    assert lines[2].split()[:3] == ["FLAG", "dan", "3"]  # flagged first
    assert "not reviewed yet" in out

    assert _audit([*base, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [a["account"] for a in doc["accounts"]] == ["dan", "amy"]
    assert doc["accounts"][0]["flagged"] and doc["reviewed"] is None

    assert _audit([*base, "--reviewed-by", "Auditor Lee"]) == 2  # a note is required with it
    capsys.readouterr()
    assert _audit([*base, "--reviewed-by", "Auditor Lee", "--note", "dan: night shift"]) == 0
    assert "reviewed by Auditor Lee" in capsys.readouterr().out
    assert _audit([*base, "--reviewed-by", "Auditor Kim", "--note", "again"]) == 1
    assert "already reviewed by Auditor Lee" in capsys.readouterr().err
    assert _audit([*base]) == 0
    assert "reviewed by Auditor Lee" in capsys.readouterr().out
    assert _audit(["access-log", "--config", str(config), "--month", "2099-01"]) == 0  # empty
    capsys.readouterr()

    public = keys.load_public(keys.public_path(key_path))
    assert ledger.verify(public).ok  # the CLI's row is signed with the service key
