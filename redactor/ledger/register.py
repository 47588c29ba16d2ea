"""The register (관리대장): every use, provision, access and destruction of footage.

PIPA and the commission's guideline for video devices ask a center to keep a register
with one row per 이용 / 제공 / 열람 / 파기, and to publish yearly statistics from it. Here
the register is a view of the ledger, never a second store: `register_rows` turns ledger
entries into rows, one per qualifying entry, so it cannot disagree with the hash chain.

- CASE_DECIDED (a provision or access request decided): 제공 or 열람, by detail.kind;
- COMPLETED without detail.case_id (an export released outside a case): 열람 for subject
  access, 이용 for the center's internal recipients, else 제공 (a case's export is already
  its CASE_DECIDED row);
- DESTROYED (a recording destroyed) and DELETED (an export's copies deleted): 파기.

Everything else (requests, refusals of exports, views, downloads) is not a register row.
Old rows may lack detail keys: their cells are blank, never an error. Pure functions
only: entries in, rows out; rows in, statistics out (files: register_files.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

from redactor.errors import InvalidInput
from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.ledger import Entry, Event

# Korea has no daylight saving: a fixed offset is exact. Dates in the register, its
# filters' calendar days and the statistics' years are the center's local time.

KINDS: Mapping[str, str] = {
    "use": "이용",
    "provision": "제공",
    "access": "열람",
    "destruction": "파기",
}
# Kinds whose rows hand footage to someone; only they have a recipient and a legal basis.
DISCLOSURES = ("use", "provision", "access")

FORMS: Mapping[str, tuple[str, str]] = {
    "copy": ("사본 제공", "copy"),
    "view_on_site": ("현장 열람", "viewing on site"),
}
OUTCOMES: Mapping[str, tuple[str, str]] = {
    "granted": ("허용", "granted"),
    "partly_granted": ("일부 허용", "partly granted"),
    "refused": ("거부", "refused"),
}
# The law's grounds for refusing or limiting access (PIPA art. 35(4) and the guideline).
REASONS: Mapping[str, tuple[str, str]] = {
    "investigation": (
        "수사·재판 등에 중대한 지장",
        "would seriously hinder an investigation or trial",
    ),
    "destroyed": ("이미 파기됨", "already destroyed"),
    "others_privacy": ("타인의 사생활 보호 불가", "others' privacy cannot be protected"),
    "law": ("법률에 따른 제한", "restricted by law"),
    "harm": ("생명·신체·재산상 피해 우려", "risk of harm to life, body or property"),
}
# Purposes the register writes itself for destruction rows (others are the requester's text).
PURPOSES: Mapping[str, tuple[str, str]] = {
    "retention": ("보존기간 경과", "retention period passed"),
    "export_expired": ("반출본 보관기한 만료", "export copy expired"),
}


class Column(NamedTuple):
    field: str
    ko: str
    en: str


# In the order of the cities' forms (개인영상정보 관리대장): what, when, which file, who
# received it, why, on which basis, in which form; then the outcome and the sign-off
# (담당, then 과장); the system's own references last.
COLUMNS: tuple[Column, ...] = (
    Column("seq", "번호", "No."),
    Column("kind", "구분", "kind"),
    Column("at", "일시", "date and time"),
    Column("file", "파일명", "file"),
    Column("camera_id", "카메라", "camera"),
    Column("period_start", "영상 기간 시작", "footage from"),
    Column("period_end", "영상 기간 끝", "footage to"),
    Column("recipient", "이용·제공받는 자 / 열람 청구인", "recipient or requester"),
    Column("purpose", "목적·사유", "purpose"),
    Column("legal_basis", "근거", "legal basis"),
    Column("form", "이용·제공 형태", "form"),
    Column("fee", "수수료", "fee"),
    Column("outcome", "결과", "outcome"),
    Column("reason", "거부·제한 사유", "refusal reason"),
    Column("reason_text", "사유 설명", "reason in words"),
    Column("in_charge", "담당", "in charge"),
    Column("approved_by", "과장", "approved by"),
    Column("case_id", "청구 번호", "case"),
    Column("export_id", "반출 번호", "export"),
)

LANGS = ("ko", "en", "both")


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One register row: one ledger entry (`seq` is the entry's)."""

    seq: int
    at: datetime
    kind: str  # a key of KINDS
    case_id: str = ""
    export_id: str = ""
    camera_id: str = ""
    file: str = ""  # recordings or copies, "; " between several
    period_start: datetime | None = None
    period_end: datetime | None = None
    recipient: str = ""
    purpose: str = ""
    legal_basis: str = ""
    form: str = ""  # a key of FORMS or ""
    outcome: str = ""  # a key of OUTCOMES or "" (a release outside a case has no decision)
    reason: str = ""  # a key of REASONS or ""
    reason_text: str = ""
    in_charge: str = ""  # 담당
    approved_by: str = ""  # 과장
    fee: int | None = None


# ------------------------------------------------------------------ from the ledger


def register_rows(
    entries: Iterable[Entry], internal_recipients: Iterable[str] = ()
) -> list[RegisterRow]:
    """One row per qualifying ledger entry, in ledger order; every other entry is skipped.

    Pass whole ledgers where possible: a DELETED row finds its export's case in the
    export's COMPLETED row, which must come before it in `entries`.
    """
    internal = frozenset(internal_recipients)
    case_of_export: dict[str, str] = {}
    rows: list[RegisterRow] = []
    for e in entries:
        d = e.detail if isinstance(e.detail, Mapping) else {}
        if e.event == Event.CASE_DECIDED:
            rows.append(_decided(e, d))
        elif e.event == Event.COMPLETED:
            case_id = _text(d, "case_id")
            if case_id:
                case_of_export[e.export_id] = case_id
            else:
                rows.append(_completed(e, d, internal))
        elif e.event == Event.DESTROYED:
            rows.append(_destroyed(e, d))
        elif e.event == Event.DELETED:
            rows.append(_deleted(e, d, case_of_export.get(e.export_id, "")))
    return rows


def _decided(e: Entry, d: Mapping[str, Any]) -> RegisterRow:
    kind = _text(d, "kind")
    if kind not in ("provision", "access"):
        # an older or hand-written row: a person asking is an access request
        kind = "access" if _text(d, "requester_kind") == "person" else "provision"
    start, end = _period(d.get("period"))
    recordings = d.get("recordings")
    files = [str(r) for r in recordings] if isinstance(recordings, list) else []
    fee = d.get("fee")
    return RegisterRow(
        seq=e.seq,
        at=e.at,
        kind=kind,
        case_id=_text(d, "case_id"),
        export_id=e.export_id or _text(d, "export_id"),
        camera_id=e.camera_id or _text(d, "camera_id"),
        file="; ".join(files),
        period_start=start,
        period_end=end,
        recipient=e.recipient or _text(d, "recipient") or _text(d, "requester"),
        purpose=_text(d, "purpose"),
        legal_basis=_text(d, "legal_basis"),
        form=_text(d, "form"),
        outcome=_text(d, "outcome"),
        reason=_text(d, "refusal_reason"),
        reason_text=_text(d, "reason_text"),
        in_charge=_text(d, "in_charge"),
        approved_by=_text(d, "approved_by"),
        fee=fee if isinstance(fee, int) and not isinstance(fee, bool) else None,
    )


def _completed(e: Entry, d: Mapping[str, Any], internal: frozenset[str]) -> RegisterRow:
    if d.get("subject_access") is True:
        kind = "access"
    elif e.recipient in internal:
        kind = "use"
    else:
        kind = "provision"
    start, end = _period(d.get("period"))
    return RegisterRow(
        seq=e.seq,
        at=e.at,
        kind=kind,
        export_id=e.export_id,
        camera_id=e.camera_id,
        file=_text(d, "source"),
        period_start=start,
        period_end=end,
        recipient=e.recipient,
        purpose=_text(d, "purpose"),
        legal_basis=_text(d, "legal_basis"),
        form="copy",  # an export is always a copy handed over
        in_charge=_text(d, "requested_by"),
        approved_by=_text(d, "approved_by"),
    )


def _destroyed(e: Entry, d: Mapping[str, Any]) -> RegisterRow:
    reason = _text(d, "reason") or _text(d, "purpose")
    return RegisterRow(
        seq=e.seq,
        at=e.at,
        kind="destruction",
        camera_id=e.camera_id,
        file=_text(d, "file"),
        period_start=_when(d.get("start")),
        period_end=_when(d.get("end")),
        purpose=reason or ("retention" if "retention_days" in d else ""),
        in_charge=e.actor,
    )


def _deleted(e: Entry, d: Mapping[str, Any], case_id: str) -> RegisterRow:
    files = d.get("files")
    names = (
        [str(f.get("file", "")) for f in files if isinstance(f, Mapping)]
        if isinstance(files, list)
        else []
    )
    return RegisterRow(
        seq=e.seq,
        at=e.at,
        kind="destruction",
        case_id=case_id,
        export_id=e.export_id,
        camera_id=e.camera_id,
        file="; ".join(n for n in names if n),
        recipient=e.recipient,  # whose copy was destroyed
        purpose="export_expired",
        in_charge=e.actor,
    )


def _text(d: Mapping[str, Any], key: str) -> str:
    value = d.get(key)
    return "" if value is None else str(value)


def _when(value: Any) -> datetime | None:
    """An ISO time from a detail; None where absent or unreadable (an old row shows blank)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _period(value: Any) -> tuple[datetime | None, datetime | None]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return _when(value[0]), _when(value[1])
    return None, None


# ------------------------------------------------------------------ filters


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    """Which rows to show; every given field must match. `until` is exclusive."""

    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    camera_id: str | None = None
    recipient: str | None = None
    case_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise InvalidInput(
                f"register kind must be one of {', '.join(KINDS)} "
                f"({', '.join(KINDS.values())}), got {self.kind!r}"
            )
        for name, at in (("since", self.since), ("until", self.until)):
            if at is not None and at.tzinfo is None:
                raise InvalidInput(f"register filter {name} must be timezone-aware, got {at!r}")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidInput(
                f"register filter until must be after since, got since {self.since.isoformat()} "
                f"and until {self.until.isoformat()}"
            )

    def matches(self, row: RegisterRow) -> bool:
        return (
            (self.kind is None or row.kind == self.kind)
            and (self.since is None or row.at >= self.since)
            and (self.until is None or row.at < self.until)
            and (self.camera_id is None or row.camera_id == self.camera_id)
            and (self.recipient is None or row.recipient == self.recipient)
            and (self.case_id is None or row.case_id == self.case_id)
        )


def filter_rows(rows: Iterable[RegisterRow], flt: RegisterFilter) -> list[RegisterRow]:
    return [r for r in rows if flt.matches(r)]


def kind_of(text: str) -> str:
    """A kind as a person types it: the code (provision) or its Korean name (제공)."""
    for code, ko in KINDS.items():
        if text.strip().lower() in (code, ko):
            return code
    raise InvalidInput(
        "register kind must be one of "
        + ", ".join(f"{code} ({ko})" for code, ko in KINDS.items())
        + f", got {text!r}"
    )


def year_span(year: int, tz: tzinfo = CENTER_TZ) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of `year` in the center's time zone."""
    if not 1970 <= year <= 9998:
        raise InvalidInput(f"year must be between 1970 and 9998, got {year}")
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


# ------------------------------------------------------------------ statistics


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts over register rows; each mapping is ordered by count, most first.

    by_recipient and by_legal_basis count only rows that hand footage over (이용, 제공,
    열람); by_recipient leaves out 열람, whose recipient is a private person, so that
    the published figures name agencies only. by_outcome and by_reason count decided
    cases (a release outside a case has no outcome). "" counts rows where it is blank.
    """

    year: int | None  # None: over whatever rows were given
    total: int
    by_kind: Mapping[str, int]  # every kind, 0 included, in KINDS order
    by_recipient: Mapping[str, int]
    by_legal_basis: Mapping[str, int]
    by_outcome: Mapping[str, int]
    by_reason: Mapping[str, int]
    by_month: Mapping[int, Mapping[str, int]] = field(default_factory=dict)  # 1..12 -> kind


def summarize(
    rows: Sequence[RegisterRow], year: int | None = None, tz: tzinfo = CENTER_TZ
) -> Stats:
    """Counts over `rows` as given (the caller chose them); `year` only labels them."""
    by_kind = {k: 0 for k in KINDS}
    # a year's table shows every month, quiet ones as zeros
    months: dict[int, dict[str, int]] = (
        {m: {k: 0 for k in KINDS} for m in range(1, 13)} if year is not None else {}
    )
    recipients: Counter[str] = Counter()
    bases: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for r in rows:
        by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
        month = months.setdefault(r.at.astimezone(tz).month, {k: 0 for k in KINDS})
        month[r.kind] = month.get(r.kind, 0) + 1
        if r.kind in DISCLOSURES:
            bases[r.legal_basis] += 1
            if r.kind != "access":
                recipients[r.recipient] += 1
        if r.outcome:
            outcomes[r.outcome] += 1
        if r.reason:
            reasons[r.reason] += 1
    return Stats(
        year=year,
        total=len(rows),
        by_kind=by_kind,
        by_recipient=dict(recipients.most_common()),
        by_legal_basis=dict(bases.most_common()),
        by_outcome=dict(outcomes.most_common()),
        by_reason=dict(reasons.most_common()),
        by_month=dict(sorted(months.items())),
    )


def yearly_stats(rows: Iterable[RegisterRow], year: int, tz: tzinfo = CENTER_TZ) -> Stats:
    """The statistics of one calendar year (the center's time zone) of `rows`."""
    since, until = year_span(year, tz)
    return summarize(filter_rows(rows, RegisterFilter(since=since, until=until)), year, tz)


# ------------------------------------------------------------------ labels


def label(field_name: str, value: str, lang: str = "both") -> str:
    """A code shown to people: kind 'provision' is '제공', 'provision' or '제공 (provision)'.

    Values that are not codes (free text) come back as they are.
    """
    if field_name == "kind" and value in KINDS:
        names = (KINDS[value], value)
    else:
        table = {"form": FORMS, "outcome": OUTCOMES, "reason": REASONS, "purpose": PURPOSES}
        found = table.get(field_name, {}).get(value)
        if found is None:
            return value
        names = found
    return _pick(names, lang)


def header(lang: str = "both") -> list[str]:
    """Column names in COLUMNS order: '구분', 'kind' or '구분 (kind)'."""
    return [_pick((c.ko, c.en), lang) for c in COLUMNS]


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InvalidInput(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def _pick(names: tuple[str, str], lang: str) -> str:
    ko, en = names
    if check_lang(lang) == "ko":
        return ko
    if lang == "en":
        return en
    return f"{ko} ({en})"
