"""The register as files people open: CSV and XLSX, in Korean, English or both.

Rows in, a file out (a path or any binary stream, such as a web response's buffer).
Times are shown in the center's time zone without an offset, because Excel has no time
zones; docs/register.md says which zone. Codes (kind, form, outcome, reason) are shown by
their names in the chosen language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.register import (
    COLUMNS,
    KINDS,
    RegisterRow,
    Stats,
    check_lang,
    header,
    label,
)

Out = str | Path | IO[bytes]

_LABELLED = ("kind", "form", "outcome", "reason", "purpose")
# A spreadsheet runs a cell that starts with these as a formula: text from a requester
# (a purpose, a name) must never become one (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Column widths in characters (Hangul counts about double): wide enough for the usual value.
_WIDTHS: Mapping[str, int] = {
    "seq": 7,
    "kind": 12,
    "at": 20,
    "file": 36,
    "camera_id": 12,
    "period_start": 20,
    "period_end": 20,
    "recipient": 24,
    "purpose": 30,
    "legal_basis": 22,
    "form": 14,
    "fee": 9,
    "outcome": 12,
    "reason": 24,
    "reason_text": 30,
    "in_charge": 16,
    "approved_by": 16,
    "case_id": 16,
    "export_id": 16,
}


def cells(row: RegisterRow, lang: str = "both", tz: tzinfo = CENTER_TZ) -> list[Any]:
    """One row's values in COLUMNS order: datetimes local and naive, codes as names,
    blanks as "" (a fee of None included)."""
    out: list[Any] = []
    for col in COLUMNS:
        value = getattr(row, col.field)
        if isinstance(value, datetime):
            value = value.astimezone(tz).replace(tzinfo=None)
        elif value is None:
            value = ""
        elif col.field in _LABELLED:
            value = label(col.field, value, lang)
        out.append(value)
    return out


def write_csv(
    rows: Sequence[RegisterRow], out: Out, lang: str = "both", tz: tzinfo = CENTER_TZ
) -> None:
    """UTF-8 with a byte-order mark, so that Excel opens Hangul correctly; one header row."""
    check_lang(lang)
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(header(lang))
    for row in rows:
        w.writerow([_csv_cell(v) for v in cells(row, lang, tz)])
    _write(("\ufeff" + text.getvalue()).encode("utf-8"), out)


def write_stats_csv(stats: Stats, out: Out, lang: str = "both") -> None:
    """The statistics as CSV: one line per (group, key, count)."""
    check_lang(lang)
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(
        [
            _name(("구분", "group"), lang),
            _name(("항목", "item"), lang),
            _name(("건수", "count"), lang),
        ]
    )
    for group, key, count in stats_lines(stats, lang):
        w.writerow([_csv_cell(group), _csv_cell(key), count])
    _write(("\ufeff" + text.getvalue()).encode("utf-8"), out)


def write_xlsx(
    rows: Sequence[RegisterRow],
    stats: Stats,
    out: Out,
    lang: str = "both",
    tz: tzinfo = CENTER_TZ,
) -> None:
    """A register sheet (header frozen and filterable, times as real dates) and a
    statistics sheet."""
    check_lang(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_names(lang)[0]
    ws.append(header(lang))
    for row in rows:
        ws.append([_xlsx_value(v) for v in cells(row, lang, tz)])
    for i, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(_WIDTHS[col.field], _width(ws.cell(1, i).value))
        if col.field in ("at", "period_start", "period_end"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = _DATE_FORMAT
    _as_text(ws)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions

    st = wb.create_sheet(sheet_names(lang)[1])
    st.append(
        [
            _name(("구분", "group"), lang),
            _name(("항목", "item"), lang),
            _name(("건수", "count"), lang),
        ]
    )
    for group, key, count in stats_lines(stats, lang):
        st.append([group, key, count])
    _as_text(st)
    st.freeze_panes = "A2"
    for letter, width in (("A", 24), ("B", 36), ("C", 10)):
        st.column_dimensions[letter].width = width

    buf = io.BytesIO()
    wb.save(buf)
    _write(buf.getvalue(), out)


def sheet_names(lang: str = "both") -> tuple[str, str]:
    """(register sheet, statistics sheet)."""
    return _name(("관리대장", "register"), lang), _name(("통계", "statistics"), lang)


def stats_lines(stats: Stats, lang: str = "both") -> list[tuple[str, str, int]]:
    """(group, item, count) lines, group by group, for a sheet, a CSV file or a table."""
    blank = _name(("미기재", "not recorded"), lang)
    period = (
        str(stats.year) if stats.year is not None else _name(("선택한 기간", "as selected"), lang)
    )
    lines: list[tuple[str, str, int]] = [(_name(("합계", "total"), lang), period, stats.total)]
    groups: tuple[tuple[tuple[str, str], str, Mapping[str, int]], ...] = (
        (("구분별", "by kind"), "kind", stats.by_kind),
        (("수령 기관별", "by recipient"), "recipient", stats.by_recipient),
        (("근거별", "by legal basis"), "legal_basis", stats.by_legal_basis),
        (("결과별", "by outcome"), "outcome", stats.by_outcome),
        (("거부·제한 사유별", "by refusal reason"), "reason", stats.by_reason),
    )
    for names, field_name, counts in groups:
        for key, count in counts.items():
            lines.append((_name(names, lang), label(field_name, key, lang) or blank, count))
    for month, kinds in stats.by_month.items():
        for kind in KINDS:
            lines.append(
                (
                    _name((f"{month}월", f"month {month}"), lang),
                    label("kind", kind, lang),
                    kinds.get(kind, 0),
                )
            )
    return lines


def _name(names: tuple[str, str], lang: str) -> str:
    ko, en = names
    return ko if lang == "ko" else en if lang == "en" else f"{ko} ({en})"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text by Excel; docs/register.md says so
    return value


def _xlsx_value(value: Any) -> Any:
    # openpyxl rejects control characters other than tab and newlines in cells
    if isinstance(value, str):
        return "".join(c for c in value if c >= " " or c in "\t\n\r")
    return value


def _as_text(ws: Any) -> None:
    """openpyxl stores a string starting with '=' as a formula: keep every string a string."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"


def _width(text: object) -> int:
    s = str(text or "")
    return sum(2 if "\uac00" <= c <= "\ud7a3" else 1 for c in s) + 2


def _write(data: bytes, out: Out) -> None:
    if isinstance(out, str | Path):
        Path(out).write_bytes(data)
    else:
        out.write(data)
