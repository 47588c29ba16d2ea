"""The register (관리대장) as a view of a real SQLite ledger: rows, filters, statistics,
CSV and XLSX read back with csv and openpyxl, and the redactor-audit command."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openpyxl import load_workbook

from redactor.clients.audit import main as audit
from redactor.errors import InvalidInput
from redactor.ledger import Event, Ledger
from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.register import (
    COLUMNS,
    KINDS,
    RegisterFilter,
    RegisterRow,
    filter_rows,
    header,
    kind_of,
    register_rows,
    summarize,
    yearly_stats,
)
from redactor.ledger.register_files import write_csv, write_stats_csv, write_xlsx

AUDIT = Path(sys.executable).parent / "redactor-audit"
KST = CENTER_TZ
INTERNAL = ("traffic-dept",)
# Two years, so that a year's statistics leave rows out.
T_PROVISION = datetime(2025, 3, 2, 1, 0, tzinfo=UTC)  # 10:00 KST
T_USE = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
T_ACCESS = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
T_CASE_EXPORT = datetime(2025, 5, 10, 4, 0, tzinfo=UTC)
T_GRANTED = datetime(2025, 5, 10, 5, 0, tzinfo=UTC)
T_REFUSED = datetime(2025, 6, 20, 6, 0, tzinfo=UTC)
T_DESTROYED = datetime(2025, 7, 1, 15, 30, tzinfo=UTC)  # 2025-07-02 00:30 KST: July 2 locally
T_DELETED = datetime(2025, 6, 9, 4, 0, tzinfo=UTC)
T_OLD = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # 2025-01-01 01:00 KST: 2025 locally
T_2026 = datetime(2026, 1, 3, 0, 0, tzinfo=UTC)


class SetClock:
    """The time of the next row, set by the test."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Filled:
    path: Path
    key: Ed25519PrivateKey
    seqs: dict[str, int]  # name of a written row -> its seq


def fill(path: Path) -> Filled:
    """A ledger with every kind of register row, and rows that are not register rows."""
    key = Ed25519PrivateKey.generate()
    clock = SetClock()
    seqs: dict[str, int] = {}
    with Ledger(path, key, clock=clock) as ledger:

        def add(name: str, at: datetime, event: Event, **kw: Any) -> None:
            clock.now = at
            seqs[name] = ledger.append(event, **kw).seq

        add(
            "requested",
            T_PROVISION - timedelta(hours=1),
            Event.REQUESTED,
            export_id="exp-p",
            actor="auditor",
            camera_id="cam-7",
            recipient="police-112",
            detail={"purpose": "hit-and-run"},
        )
        add(
            "provision",
            T_PROVISION,
            Event.COMPLETED,
            export_id="exp-p",
            actor="service",
            camera_id="cam-7",
            recipient="police-112",
            detail=completed(
                source="cam-7/20250302T000000.mp4",
                requested_by="kim",
                approved_by="lee",
                purpose='=HYPERLINK("http://x")',  # a requester's text, never a formula
                legal_basis="PIPA art. 18(2)7",
                period=["2025-03-02T08:15:00+09:00", "2025-03-02T08:20:00+09:00"],
            ),
        )
        add(
            "use",
            T_USE,
            Event.COMPLETED,
            export_id="exp-u",
            actor="service",
            camera_id="cam-9",
            recipient="traffic-dept",
            detail=completed(
                source="cam-9/20250305T000000.mp4",
                requested_by="park",
                purpose="signal timing study",
                legal_basis="PIPA art. 15(1)3",
                period=[],
            ),
        )
        add(
            "access",
            T_ACCESS,
            Event.COMPLETED,
            export_id="exp-a",
            actor="service",
            camera_id="cam-7",
            recipient="홍길동",
            detail=completed(
                source="cam-7/20250401T000000.mp4",
                requested_by="kim",
                approved_by="lee",
                purpose="본인 영상 열람",
                legal_basis="PIPA art. 35",
                subject_access=True,
            ),
        )
        add(
            "case_export",
            T_CASE_EXPORT,
            Event.COMPLETED,
            export_id="exp-c",
            actor="service",
            camera_id="cam-3",
            recipient="police-112",
            detail=completed(source="cam-3/20250509T000000.mp4", case_id="C-2025-001"),
        )
        add(
            "granted",
            T_GRANTED,
            Event.CASE_DECIDED,
            export_id="exp-c",
            actor="choi",
            camera_id="cam-3",
            recipient="police-112",
            detail=decided(
                case_id="C-2025-001",
                kind="provision",
                requester="Seoul Police",
                requester_kind="agency",
                recipient="police-112",
                camera_id="cam-3",
                period=["2025-05-09T21:00:00+09:00", "2025-05-09T21:10:00+09:00"],
                recordings=["cam-3/20250509T000000.mp4", "cam-3/20250509T010000.mp4"],
                purpose="theft investigation",
                legal_basis="PIPA art. 18(2)7",
                form="copy",
                fee=0,
                outcome="granted",
                export_id="exp-c",
                in_charge="kim",
                approved_by="choi",
            ),
        )
        for name, at, event in (
            ("viewed", T_GRANTED + timedelta(minutes=5), Event.VIEWED),
            ("downloaded", T_GRANTED + timedelta(minutes=6), Event.DOWNLOADED),
            ("opened", T_GRANTED + timedelta(minutes=7), Event.CASE_OPENED),
            ("signed", T_GRANTED + timedelta(minutes=8), Event.CASE_SIGNED),
            ("hold", T_GRANTED + timedelta(minutes=9), Event.HOLD_PLACED),
            ("refused_export", T_GRANTED + timedelta(minutes=10), Event.REFUSED),
            ("expired", T_DELETED - timedelta(seconds=1), Event.EXPIRED),
        ):
            add(
                name,
                at,
                event,
                export_id="exp-c",
                actor="kim",
                camera_id="cam-3",
                recipient="police-112",
                detail={"case_id": "C-2025-001", "action": "view", "purpose": "x"},
            )
        add(
            "deleted",
            T_DELETED,
            Event.DELETED,
            export_id="exp-c",
            actor="service",
            camera_id="cam-3",
            recipient="police-112",
            detail={"files": [{"file": "exp-c.mp4"}, {"file": "exp-c.manifest.json"}]},
        )
        add(
            "refused",
            T_REFUSED,
            Event.CASE_DECIDED,
            actor="choi",
            camera_id="cam-7",
            recipient="김철수",
            detail=decided(
                case_id="C-2025-002",
                kind="access",
                requester="김철수",
                requester_kind="person",
                recipient="김철수",
                camera_id="cam-7",
                period=["2025-06-01T10:00:00+09:00", "2025-06-01T10:30:00+09:00"],
                recordings=["cam-7/20250601T000000.mp4"],
                purpose="본인 확인",
                legal_basis="PIPA art. 35",
                form="view_on_site",
                fee=5000,
                outcome="refused",
                refusal_reason="others_privacy",
                reason_text="crowded platform; masking cannot protect the others",
                in_charge="kim",
                approved_by="choi",
            ),
        )
        add(
            "destroyed",
            T_DESTROYED,
            Event.DESTROYED,
            actor="retention",
            camera_id="cam-7",
            detail={
                "file": "cam-7/20250601T000000.mp4",
                "start": "2025-06-01T00:00:00+00:00",
                "end": "2025-06-01T01:00:00+00:00",
                "bytes": 123456,
                "retention_days": 30,
                "group": "street",
                "due_at": "2025-07-01T00:00:00+00:00",
                "cycle": "2025-07-01T15:30:00+00:00",
            },
        )
        # an export released before the register existed: its detail had none of the keys
        add(
            "old",
            T_OLD,
            Event.COMPLETED,
            export_id="exp-old",
            actor="service",
            camera_id="cam-1",
            recipient="fire-119",
            detail={"source_sha256": "ab" * 32, "frames": 10},
        )
        add(
            "next_year",
            T_2026,
            Event.COMPLETED,
            export_id="exp-n",
            actor="service",
            camera_id="cam-1",
            recipient="fire-119",
            detail=completed(source="cam-1/x.mp4", purpose="fire", legal_basis="law X"),
        )
    return Filled(path, key, seqs)


def completed(**kw: Any) -> dict[str, Any]:
    """A COMPLETED detail as redactor/export/service.py writes it."""
    base: dict[str, Any] = {
        "source": "",
        "source_sha256": "00" * 32,
        "output_sha256": "11" * 32,
        "video": "v.mp4",
        "requested_by": "",
        "approved_by": "",
        "officer": "Insp. Kim 1234",
        "purpose": "",
        "legal_basis": "",
        "period": [],
        "subject_access": False,
        "case_id": "",
        "reviewed": True,
    }
    return base | kw


def decided(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "currency": "KRW",
        "refusal_reason": "",
        "reason_text": "",
        "export_id": "",
        "received_at": "2025-05-01T09:00:00+09:00",
        "due_at": "2025-05-11T09:00:00+09:00",
    }
    return base | kw


def kst(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def filled(tmp_path: Path) -> Filled:
    return fill(tmp_path / "ledger.sqlite")


@pytest.fixture
def rows(filled: Filled) -> list[RegisterRow]:
    with Ledger(filled.path, create=False) as ledger:
        return register_rows(ledger.entries(), INTERNAL)


def expected(s: dict[str, int]) -> list[RegisterRow]:
    """Every row and every field, written out by hand, in ledger order."""
    return [
        RegisterRow(
            seq=s["provision"],
            at=T_PROVISION,
            kind="provision",
            export_id="exp-p",
            camera_id="cam-7",
            file="cam-7/20250302T000000.mp4",
            period_start=kst("2025-03-02T08:15:00+09:00"),
            period_end=kst("2025-03-02T08:20:00+09:00"),
            recipient="police-112",
            purpose='=HYPERLINK("http://x")',
            legal_basis="PIPA art. 18(2)7",
            form="copy",
            in_charge="kim",
            approved_by="lee",
        ),
        RegisterRow(
            seq=s["use"],
            at=T_USE,
            kind="use",
            export_id="exp-u",
            camera_id="cam-9",
            file="cam-9/20250305T000000.mp4",
            recipient="traffic-dept",
            purpose="signal timing study",
            legal_basis="PIPA art. 15(1)3",
            form="copy",
            in_charge="park",
        ),
        RegisterRow(
            seq=s["access"],
            at=T_ACCESS,
            kind="access",
            export_id="exp-a",
            camera_id="cam-7",
            file="cam-7/20250401T000000.mp4",
            recipient="홍길동",
            purpose="본인 영상 열람",
            legal_basis="PIPA art. 35",
            form="copy",
            in_charge="kim",
            approved_by="lee",
        ),
        RegisterRow(
            seq=s["granted"],
            at=T_GRANTED,
            kind="provision",
            case_id="C-2025-001",
            export_id="exp-c",
            camera_id="cam-3",
            file="cam-3/20250509T000000.mp4; cam-3/20250509T010000.mp4",
            period_start=kst("2025-05-09T21:00:00+09:00"),
            period_end=kst("2025-05-09T21:10:00+09:00"),
            recipient="police-112",
            purpose="theft investigation",
            legal_basis="PIPA art. 18(2)7",
            form="copy",
            outcome="granted",
            in_charge="kim",
            approved_by="choi",
            fee=0,
        ),
        RegisterRow(
            seq=s["deleted"],
            at=T_DELETED,
            kind="destruction",
            case_id="C-2025-001",  # found through the export's COMPLETED row
            export_id="exp-c",
            camera_id="cam-3",
            file="exp-c.mp4; exp-c.manifest.json",
            recipient="police-112",
            purpose="export_expired",
            in_charge="service",
        ),
        RegisterRow(
            seq=s["refused"],
            at=T_REFUSED,
            kind="access",
            case_id="C-2025-002",
            camera_id="cam-7",
            file="cam-7/20250601T000000.mp4",
            period_start=kst("2025-06-01T10:00:00+09:00"),
            period_end=kst("2025-06-01T10:30:00+09:00"),
            recipient="김철수",
            purpose="본인 확인",
            legal_basis="PIPA art. 35",
            form="view_on_site",
            outcome="refused",
            reason="others_privacy",
            reason_text="crowded platform; masking cannot protect the others",
            in_charge="kim",
            approved_by="choi",
            fee=5000,
        ),
        RegisterRow(
            seq=s["destroyed"],
            at=T_DESTROYED,
            kind="destruction",
            camera_id="cam-7",
            file="cam-7/20250601T000000.mp4",
            period_start=datetime(2025, 6, 1, 0, 0, tzinfo=UTC),
            period_end=datetime(2025, 6, 1, 1, 0, tzinfo=UTC),
            purpose="retention",
            in_charge="retention",
        ),
        RegisterRow(
            seq=s["old"],
            at=T_OLD,
            kind="provision",
            export_id="exp-old",
            camera_id="cam-1",
            recipient="fire-119",
            form="copy",
        ),
        RegisterRow(
            seq=s["next_year"],
            at=T_2026,
            kind="provision",
            export_id="exp-n",
            camera_id="cam-1",
            file="cam-1/x.mp4",
            recipient="fire-119",
            purpose="fire",
            legal_basis="law X",
            form="copy",
        ),
    ]


# ------------------------------------------------------------------ rows


def test_one_row_per_qualifying_entry_with_every_field(
    filled: Filled, rows: list[RegisterRow]
) -> None:
    assert rows == expected(filled.seqs)


def test_other_entries_are_not_register_rows(filled: Filled, rows: list[RegisterRow]) -> None:
    seqs = {r.seq for r in rows}
    for name in (
        "requested",
        "case_export",  # its case's CASE_DECIDED row stands for it
        "viewed",
        "downloaded",
        "opened",
        "signed",
        "hold",
        "refused_export",
        "expired",
    ):
        assert filled.seqs[name] not in seqs, name


def test_internal_recipients_make_a_use(filled: Filled) -> None:
    with Ledger(filled.path, create=False) as ledger:
        entries = ledger.entries()
    by_seq = {r.seq: r for r in register_rows(entries)}  # no internal recipients
    assert by_seq[filled.seqs["use"]].kind == "provision"
    by_seq = {r.seq: r for r in register_rows(entries, ("police-112",))}
    assert by_seq[filled.seqs["provision"]].kind == "use"
    # a case's provision is a provision whoever the recipient: the case says its kind
    assert by_seq[filled.seqs["granted"]].kind == "provision"


def test_malformed_details_give_blanks_not_errors(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.append(Event.COMPLETED, detail={"period": "yesterday", "subject_access": "yes"})
        ledger.append(Event.CASE_DECIDED, detail={"fee": "free", "recordings": "x", "kind": 3})
        ledger.append(Event.CASE_DECIDED, detail={"requester_kind": "person"})
        ledger.append(Event.DESTROYED, detail={"start": "not a time", "end": 5})
        ledger.append(Event.DELETED, detail={"files": ["a", {"file": "b.mp4"}]})
        got = register_rows(ledger.entries())
    assert [r.kind for r in got] == [
        "provision",
        "provision",
        "access",
        "destruction",
        "destruction",
    ]
    assert got[0].period_start is None and got[0].period_end is None
    assert got[1].fee is None and got[1].file == ""
    assert got[3].period_start is None and got[3].period_end is None and got[3].purpose == ""
    assert got[4].file == "b.mp4"


def test_the_ledger_still_verifies(filled: Filled, rows: list[RegisterRow]) -> None:
    with Ledger(filled.path, create=False) as ledger:
        before = ledger.head()
        result = ledger.verify(filled.key.public_key())
    assert result.ok, result.reason
    assert (result.head_seq, result.head_hash) == before
    assert result.rows == max(filled.seqs.values())  # reading the register wrote nothing


# ------------------------------------------------------------------ filters


def test_filters(filled: Filled, rows: list[RegisterRow]) -> None:
    s = filled.seqs

    def seqs(**kw: Any) -> list[int]:
        return [r.seq for r in filter_rows(rows, RegisterFilter(**kw))]

    assert seqs(kind="destruction") == [s["deleted"], s["destroyed"]]
    assert seqs(kind="access") == [s["access"], s["refused"]]
    assert seqs(kind="use") == [s["use"]]
    assert seqs(camera_id="cam-3") == [s["granted"], s["deleted"]]
    assert seqs(recipient="police-112") == [s["provision"], s["granted"], s["deleted"]]
    assert seqs(case_id="C-2025-001") == [s["granted"], s["deleted"]]
    # until is exclusive: a row at exactly `until` is out, at exactly `since` in
    assert seqs(since=T_ACCESS, until=T_REFUSED) == [s["access"], s["granted"], s["deleted"]]
    assert seqs(kind="provision", camera_id="cam-7", since=T_PROVISION) == [s["provision"]]
    assert seqs() == [r.seq for r in rows]


def test_bad_filters_say_what_was_expected() -> None:
    with pytest.raises(InvalidInput, match="kind must be one of use, provision.*got 'gift'"):
        RegisterFilter(kind="gift")
    with pytest.raises(InvalidInput, match="timezone-aware"):
        RegisterFilter(since=datetime(2025, 1, 1))
    with pytest.raises(InvalidInput, match="until must be after since"):
        RegisterFilter(since=T_USE, until=T_PROVISION)
    assert kind_of("제공") == "provision" and kind_of(" Destruction ") == "destruction"
    with pytest.raises(InvalidInput, match="이용.*got '기부'"):
        kind_of("기부")


# ------------------------------------------------------------------ statistics


def test_yearly_stats(filled: Filled, rows: list[RegisterRow]) -> None:
    st = yearly_stats(rows, 2025)
    # T_OLD is 2024 in UTC but 2025 in Korea; next_year is out
    assert st.year == 2025 and st.total == 8
    assert dict(st.by_kind) == {"use": 1, "provision": 3, "access": 2, "destruction": 2}
    assert list(st.by_kind) == list(KINDS)
    # agencies only: the people of the access rows are not published
    assert dict(st.by_recipient) == {"police-112": 2, "traffic-dept": 1, "fire-119": 1}
    assert dict(st.by_legal_basis) == {
        "PIPA art. 18(2)7": 2,
        "PIPA art. 35": 2,
        "PIPA art. 15(1)3": 1,
        "": 1,
    }
    assert dict(st.by_outcome) == {"granted": 1, "refused": 1}
    assert dict(st.by_reason) == {"others_privacy": 1}
    # months in Korean time: the destruction at 2025-07-01 15:30 UTC is July 2 in Seoul
    assert st.by_month[7] == {"use": 0, "provision": 0, "access": 0, "destruction": 1}
    assert st.by_month[1]["provision"] == 1 and st.by_month[3] == {
        "use": 1,
        "provision": 1,
        "access": 0,
        "destruction": 0,
    }
    assert sum(sum(m.values()) for m in st.by_month.values()) == st.total
    assert list(st.by_month) == list(range(1, 13)) and st.by_month[2]["provision"] == 0
    assert list(summarize(rows[:1]).by_month) == [3]  # not a year: the months there are
    assert yearly_stats(rows, 2026).total == 1
    assert yearly_stats(rows, 2024).total == 0


# ------------------------------------------------------------------ files

KO = [
    "번호",
    "구분",
    "일시",
    "파일명",
    "카메라",
    "영상 기간 시작",
    "영상 기간 끝",
    "이용·제공받는 자 / 열람 청구인",
    "목적·사유",
    "근거",
    "이용·제공 형태",
    "수수료",
    "결과",
    "거부·제한 사유",
    "사유 설명",
    "담당",
    "과장",
    "청구 번호",
    "반출 번호",
]
EN = [
    "No.",
    "kind",
    "date and time",
    "file",
    "camera",
    "footage from",
    "footage to",
    "recipient or requester",
    "purpose",
    "legal basis",
    "form",
    "fee",
    "outcome",
    "refusal reason",
    "reason in words",
    "in charge",
    "approved by",
    "case",
    "export",
]
HEADERS = {"ko": KO, "en": EN, "both": [f"{k} ({e})" for k, e in zip(KO, EN, strict=True)]}


def test_columns_table_matches_the_forms() -> None:
    assert [c.ko for c in COLUMNS] == KO and [c.en for c in COLUMNS] == EN
    assert {c.field for c in COLUMNS} == set(RegisterRow.__dataclass_fields__)
    for lang, names in HEADERS.items():
        assert header(lang) == names


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would open Hangul garbled"
    reader = csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline=""))
    got = list(reader)
    return list(reader.fieldnames or []), got


@pytest.mark.parametrize("lang", ["ko", "en", "both"])
def test_csv_reads_back(lang: str, filled: Filled, rows: list[RegisterRow], tmp_path: Path) -> None:
    out = tmp_path / f"register-{lang}.csv"
    write_csv(rows, out, lang)
    names, got = read_csv(out)
    assert names == HEADERS[lang]
    assert len(got) == len(rows)
    col = dict(zip((c.field for c in COLUMNS), HEADERS[lang], strict=True))
    assert [int(r[col["seq"]]) for r in got] == [r.seq for r in rows]
    refused = next(r for r in got if int(r[col["seq"]]) == filled.seqs["refused"])
    kind = {"ko": "열람", "en": "access", "both": "열람 (access)"}[lang]
    assert refused[col["kind"]] == kind
    assert refused[col["at"]] == "2025-06-20 15:00:00"  # Korean time
    assert refused[col["period_start"]] == "2025-06-01 10:00:00"
    assert refused[col["recipient"]] == "김철수"
    assert refused[col["fee"]] == "5000"
    assert refused[col["form"]] == {"ko": "현장 열람", "en": "viewing on site"}.get(
        lang, "현장 열람 (viewing on site)"
    )
    assert refused[col["outcome"]] == {"ko": "거부", "en": "refused"}.get(lang, "거부 (refused)")
    assert refused[col["in_charge"]] == "kim" and refused[col["approved_by"]] == "choi"
    provision = got[0]
    # a requester's text starting with '=' stays text in a spreadsheet
    assert provision[col["purpose"]] == '\'=HYPERLINK("http://x")'
    assert provision[col["fee"]] == "" and provision[col["outcome"]] == ""


def test_xlsx_reads_back(filled: Filled, rows: list[RegisterRow], tmp_path: Path) -> None:
    out = tmp_path / "register.xlsx"
    write_xlsx(rows, yearly_stats(rows, 2025), out, "both")
    wb = load_workbook(out)
    assert wb.sheetnames == ["관리대장 (register)", "통계 (statistics)"]
    ws = wb["관리대장 (register)"]
    table = [list(r) for r in ws.iter_rows(values_only=True)]
    assert list(table[0]) == HEADERS["both"]
    assert len(table) == 1 + len(rows)
    assert ws.freeze_panes == "A2"
    fields = [c.field for c in COLUMNS]
    first = dict(zip(fields, table[1], strict=True))
    assert first["seq"] == filled.seqs["provision"]
    # real dates, in Korean time (Excel has no time zones)
    assert first["at"] == datetime(2025, 3, 2, 10, 0)
    assert first["period_start"] == datetime(2025, 3, 2, 8, 15)
    assert ws.cell(2, fields.index("at") + 1).number_format == "yyyy-mm-dd hh:mm:ss"
    assert first["kind"] == "제공 (provision)"
    assert first["form"] == "사본 제공 (copy)"
    # text, not a formula: the cell holds the requester's words as they were
    cell = ws.cell(2, fields.index("purpose") + 1)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    refused = dict(
        zip(fields, table[1 + [r.seq for r in rows].index(filled.seqs["refused"])], strict=True)
    )
    assert refused["fee"] == 5000 and refused["reason"].startswith("타인의 사생활 보호 불가")
    assert refused["case_id"] == "C-2025-002"

    st = wb["통계 (statistics)"]
    lines = [tuple(r) for r in st.iter_rows(values_only=True)]
    assert lines[0] == ("구분 (group)", "항목 (item)", "건수 (count)")
    assert ("합계 (total)", "2025", 8) in lines
    assert ("구분별 (by kind)", "제공 (provision)", 3) in lines
    assert ("구분별 (by kind)", "파기 (destruction)", 2) in lines
    assert ("수령 기관별 (by recipient)", "police-112", 2) in lines
    assert ("근거별 (by legal basis)", "미기재 (not recorded)", 1) in lines
    assert ("결과별 (by outcome)", "거부 (refused)", 1) in lines
    assert ("7월 (month 7)", "파기 (destruction)", 1) in lines


def test_stats_csv(rows: list[RegisterRow], tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    write_stats_csv(yearly_stats(rows, 2025), out, "en")
    names, got = read_csv(out)
    assert names == ["group", "item", "count"]
    assert {"group": "by kind", "item": "access", "count": "2"} in got
    assert {"group": "by outcome", "item": "granted", "count": "1"} in got


def test_files_go_to_streams_too(rows: list[RegisterRow], tmp_path: Path) -> None:
    """The console answers with bytes: the same file, written to a buffer."""
    buf = io.BytesIO()
    write_csv(rows, buf, "ko")
    write_csv(rows, tmp_path / "r.csv", "ko")
    assert buf.getvalue() == (tmp_path / "r.csv").read_bytes()
    xbuf = io.BytesIO()
    write_xlsx(rows, summarize(rows), xbuf, "en")
    assert load_workbook(io.BytesIO(xbuf.getvalue())).sheetnames == ["register", "statistics"]
    with pytest.raises(InvalidInput, match="lang must be one of ko, en, both, got 'fr'"):
        write_csv(rows, io.BytesIO(), "fr")


# ------------------------------------------------------------------ the command


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "center.toml"
    path.write_text(f"[export.review]\ninternal_recipients = {json.dumps(list(INTERNAL))}\n")
    return path


def run_audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AUDIT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_command_writes_the_same_csv_and_xlsx(
    filled: Filled, rows: list[RegisterRow], config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cli.csv"
    r = run_audit(
        "--config",
        str(config),
        "register",
        "--db",
        str(filled.path),
        "--format",
        "csv",
        "--out",
        str(out),
        "--year",
        "2025",
        "--lang",
        "ko",
    )
    assert r.returncode == 0, r.stderr
    mine = tmp_path / "mine.csv"
    write_csv(yearly_rows(rows, 2025), mine, "ko")
    assert out.read_bytes() == mine.read_bytes()
    names, got = read_csv(out)
    assert names == KO and len(got) == 8
    assert "8 register rows" in r.stderr

    xlsx = tmp_path / "cli.xlsx"
    r = run_audit(
        "register",
        "--config",
        str(config),
        "--db",
        str(filled.path),
        "--format",
        "xlsx",
        "--out",
        str(xlsx),
        "--kind",
        "파기",
    )
    assert r.returncode == 0, r.stderr
    wb = load_workbook(xlsx)
    table = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(table[0]) == HEADERS["both"]
    assert [row[0] for row in table[1:]] == [filled.seqs["deleted"], filled.seqs["destroyed"]]
    assert ("합계 (total)", "선택한 기간 (as selected)", 2) in [
        tuple(x) for x in wb.worksheets[1].iter_rows(values_only=True)
    ]

    with Ledger(filled.path, create=False) as ledger:
        assert ledger.verify(filled.key.public_key()).ok


def yearly_rows(rows: list[RegisterRow], year: int) -> list[RegisterRow]:
    since = datetime(year, 1, 1, tzinfo=KST)
    return filter_rows(rows, RegisterFilter(since=since, until=since.replace(year=year + 1)))


def test_command_table_json_and_stats(
    filled: Filled, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(filled.path)
    assert audit(["--config", str(config), "register", "--db", db, "--case", "C-2025-001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["번호", "(No.)"]
    assert len(lines) == 3 and "police-112" in lines[1]

    assert audit(["register", "--db", db, "--format", "json", "--camera", "cam-9"]) == 0
    (only,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    # no --config: no internal recipients, so the traffic department's export is a provision
    assert only["seq"] == filled.seqs["use"] and only["kind"] == "provision"
    assert only["at"] == "2025-03-05T11:00:00+09:00"

    assert (
        audit(
            [
                "--config",
                str(config),
                "register",
                "stats",
                "--db",
                db,
                "--year",
                "2025",
                "--format",
                "json",
            ]
        )
        == 0
    )
    st = json.loads(capsys.readouterr().out)
    assert st["year"] == 2025 and st["total"] == 8 and st["by_kind"]["use"] == 1
    assert st["by_month"]["3"] == {"use": 1, "provision": 1, "access": 0, "destruction": 0}

    assert audit(["register", "stats", "--db", db, "--year", "2025", "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert any(ln.split() == ["by", "kind", "access", "2"] for ln in text.splitlines())

    # dates without an offset are Korean time; until is exclusive
    assert (
        audit(
            [
                "register",
                "--db",
                db,
                "--format",
                "json",
                "--since",
                "2025-06-20T15:00",
                "--until",
                "2025-07-02",
            ]
        )
        == 0
    )
    got = [json.loads(x)["seq"] for x in capsys.readouterr().out.splitlines()]
    assert got == [filled.seqs["refused"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "gift"], "kind must be one of use (이용)"),
        (["--since", "yesterday"], "expected an ISO date such as 2025-03-01"),
        (["--year", "25"], "expected a year such as"),
        (["--year", "2025", "--since", "2025-01-01"], "give --year or --since/--until, not both"),
        (["--format", "xlsx"], "--format xlsx needs --out FILE"),
        (["--format", "pdf"], "invalid choice: 'pdf'"),
        (["--since", "2025-05-01", "--until", "2025-04-01"], "until must be after since"),
    ],
)
def test_command_refuses_bad_input(
    filled: Filled, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        rc = audit(["register", "--db", str(filled.path), *args])
    except SystemExit as e:  # argparse's own errors
        rc = int(e.code or 0)
    assert rc == 2
    assert message in capsys.readouterr().err


def test_command_on_a_missing_ledger_says_so(tmp_path: Path) -> None:
    r = run_audit("register", "--db", str(tmp_path / "none.sqlite"))
    assert r.returncode == 2
    assert "no ledger at" in r.stderr and not (tmp_path / "none.sqlite").exists()
