"""The law's paperwork in a real browser (issue 23, "Done when").

Headless Chromium drives the console over real uvicorn, over the real export, review, case
and retention services sharing one SQLite ledger, and a clock the test moves: an access
request is opened, shows its deadline, and becomes overdue at the top of the list (and in
the metric) once ten days pass; a granted access request ends with an export showing the
subject and the two sign-offs; a refusal issues a notice with the law's reason and how to
object. Screenshots go where $REDACTOR_CONSOLE_REPORT says (else the test's folder); the
kept ones are in bench/reports/2026-12-04_cases/."""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from support.cases import ACCESS, PROVISION, RECEIVED, Center
from support.clips import cut_clip, source_video
from support.console import log_in, report_dir
from support.review import RECORDING, wait_state

from redactor.cases.model import CaseState
from redactor.cases.records import Records
from redactor.console.server import ConsoleServer
from redactor.export.jobs import ExportState
from redactor.ledger import Event
from redactor.ledger.register import header, register_rows

pytestmark = [pytest.mark.data]


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Center, ConsoleServer]]:
    clip = tmp_path_factory.mktemp("clip") / "clip.avi"
    cut_clip(source_video(), clip, 2.0)
    c = Center(tmp_path_factory.mktemp("center"), clip)
    try:
        server = ConsoleServer(
            c.world.review,
            "127.0.0.1",
            0,
            cases=c.cases,
            records=Records(c.world.exports, c.retention),
        )
    except BaseException:
        c.close()
        raise
    try:
        yield c, server
    finally:
        server.close()
        c.close()


def fill_case(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        if name in ("kind", "form"):
            page.select_option(f"#f-{name}", value)
        else:
            page.fill(f"#f-{name}", value)


ACCESS_FORM = {
    "requester": ACCESS.requester,
    "contact": ACCESS.contact,
    "camera_id": ACCESS.camera_id,
    "start": ACCESS.start.strftime("%Y-%m-%dT%H:%M:%S"),
    "end": ACCESS.end.strftime("%Y-%m-%dT%H:%M:%S"),
    "description": ACCESS.description,
    "purpose": ACCESS.purpose,
    "legal_basis": ACCESS.legal_basis,
    "fee": str(ACCESS.fee),
}


def test_an_access_request_shows_its_deadline_and_becomes_overdue(
    center: tuple[Center, ConsoleServer], browser: Any, tmp_path: Path
) -> None:
    c, server = center
    c.clock.at = RECEIVED
    page = log_in(browser, server.url, "rob")
    page.click("#nav-cases")
    page.click("#new-access")
    rows = len(c.world.exports.ledger.entries())
    # a request without its purpose is refused, says which field, and records nothing
    fill_case(page, {**ACCESS_FORM, "purpose": ""})
    page.eval_on_selector("#case-form", "f => f.noValidate = true")
    page.click("#case-form button[type=submit]")
    assert "purpose is required" in page.inner_text("#error-message")
    assert page.get_attribute("#f-purpose", "aria-invalid") == "true"
    assert page.input_value("#f-requester") == ACCESS.requester  # what was typed stays
    assert len(c.world.exports.ledger.entries()) == rows

    fill_case(page, {"purpose": ACCESS.purpose})
    page.click("#case-form button[type=submit]")
    page.wait_for_selector("#case-state")
    case_id = page.url.rsplit("/", 1)[1]
    assert page.inner_text("#days-left").strip() == "10"
    assert page.inner_text("#due").startswith((RECEIVED + timedelta(days=10)).strftime("%Y-%m-%d"))
    assert "held" in page.inner_text("#holds")
    page.screenshot(path=str(report_dir(tmp_path) / "case_open.png"), full_page=True)

    c.clock.advance(days=10, hours=1)
    page.goto(f"{server.url}/cases")
    first = page.locator("#cases tbody tr").first
    assert first.get_attribute("data-case") == case_id
    assert "overdue" in (first.get_attribute("class") or "")
    assert "overdue" in first.locator(".days-left").inner_text()
    assert page.is_visible("#overdue-banner")
    assert c.cases.overdue_count() >= 1
    page.screenshot(path=str(report_dir(tmp_path) / "case_list_overdue.png"), full_page=True)
    page.goto(f"{server.url}/cases/{case_id}")
    page.click("#withdraw-form >> xpath=..")  # open the details
    page.fill("#withdraw-form input[name=reason]", "withdrawn by phone, 2024-05-12")
    page.click("#withdraw-form button[type=submit]")
    page.wait_for_selector("#case-state")
    assert page.inner_text("#case-state") == "withdrawn"
    assert c.cases.get(c.world.people["rob"], case_id).state is CaseState.WITHDRAWN
    c.clock.at = RECEIVED


def test_a_granted_access_request_closes_with_two_signatures(
    center: tuple[Center, ConsoleServer], browser: Any, tmp_path: Path
) -> None:
    c, server = center
    p = c.world.people
    subject = c.subject()
    case = c.cases.open(p["rob"], ACCESS)
    page = log_in(browser, server.url, "rob")
    page.goto(f"{server.url}/cases/{case.id}")
    t = subject.timestamp_us / 1e6
    for name, value in zip(
        ("subject_t", "subject_x0", "subject_y0", "subject_x1", "subject_y1"),
        (t, *subject.box),
        strict=True,
    ):
        page.fill(f"#case-export-form input[name={name}]", f"{value:.3f}")
    page.click("#case-export-form button[type=submit]")
    page.wait_for_selector("#case-exports")
    export_id = page.get_attribute("#case-exports tbody tr", "data-export")
    assert export_id
    job = wait_state(c.world, export_id, ExportState.IN_REVIEW)
    assert job.request.case_id == case.id and job.request.subject is not None
    page.goto(f"{server.url}/exports/{export_id}")  # rob looks at the footage: logged
    page.wait_for_selector("body[data-ready='1']", state="attached")
    version = c.world.review.sign_off(p["rob"], export_id, 0, "the requester is visible")
    c.world.review.approve(p["ann"], export_id, version)
    wait_state(c.world, export_id, ExportState.DONE)

    page.goto(f"{server.url}/cases/{case.id}")
    page.select_option("#f-outcome", "granted")
    page.select_option("#f-export", export_id)
    page.click("#sign-form button[type=submit]")
    page.wait_for_selector("#proposal")
    assert page.inner_text("#case-state") == "signed"
    assert not page.is_visible("#decide-form")  # rob is no approver
    page.screenshot(path=str(report_dir(tmp_path) / "case_signed.png"), full_page=True)

    ann = log_in(browser, server.url, "ann")
    ann.goto(f"{server.url}/cases/{case.id}")
    ann.click("#decide-form button[type=submit]")
    ann.wait_for_selector("#notice-link")
    assert ann.inner_text("#case-state") == "decided"
    assert "ann" in ann.inner_text("#decided-by")
    ann.goto(f"{server.url}/exports/{export_id}/approve")
    with ann.expect_download() as got:
        ann.click("#download-video")
    assert got.value.path().stat().st_size > 0
    ann.goto(f"{server.url}/cases/{case.id}")
    ann.click("#notice-link")
    assert "granted" in ann.inner_text("#notice-outcome")
    assert "90" in ann.inner_text("#objection")
    ann.screenshot(path=str(report_dir(tmp_path) / "notice_granted.png"), full_page=True)

    rows = [r for r in register_rows(c.world.exports.ledger.entries()) if r.case_id == case.id]
    assert len(rows) == 1
    row = rows[0]
    assert row.kind == "access" and row.outcome == "granted" and row.export_id == export_id
    assert row.in_charge == "rob" and row.approved_by == "ann"
    for field in ("file", "camera_id", "recipient", "purpose", "legal_basis", "form"):
        assert getattr(row, field), field
    assert row.period_start is not None and row.period_end is not None
    assert not [h for h in c.holds.active() if h.case_id == case.id]  # released with the case


def test_a_refusal_issues_a_notice_with_the_reason_and_how_to_object(
    center: tuple[Center, ConsoleServer], browser: Any, tmp_path: Path
) -> None:
    c, server = center
    case = c.cases.open(c.world.people["rita"], PROVISION)
    rob = log_in(browser, server.url, "rob")
    rob.goto(f"{server.url}/cases/{case.id}")
    rows = len(c.world.exports.ledger.entries())
    rob.select_option("#f-outcome", "refused")
    rob.click("#sign-form button[type=submit]")  # no reason from the law's list
    assert "law's reasons" in rob.inner_text("#error-message")
    assert len(c.world.exports.ledger.entries()) == rows
    rob.select_option("#f-outcome", "refused")
    rob.select_option("#f-reason", "investigation")
    rob.fill("#sign-form input[name=reason_text]", "Seoul Central case 2024-123 is open")
    rob.click("#sign-form button[type=submit]")
    rob.wait_for_selector("#proposal")

    both = log_in(browser, server.url, "ann")
    both.goto(f"{server.url}/cases/{case.id}")
    both.click("#decide-form button[type=submit]")
    both.wait_for_selector("#notice-link")
    both.click("#notice-link")
    reason = both.inner_text("#notice-reason")
    assert "criminal investigation" in reason and "2024-123" in reason
    assert "administrative appeal" in both.inner_text("#objection")
    both.screenshot(path=str(report_dir(tmp_path) / "notice_refused.png"), full_page=True)
    decided = c.world.exports.ledger.entries(event=Event.CASE_DECIDED)[-1]
    assert decided.detail["refusal_reason"] == "investigation"
    assert c.world.exports.ledger.verify(c.world.exports.key.public_key()).ok


def test_register_access_log_and_holds_in_the_console(
    center: tuple[Center, ConsoleServer], browser: Any, tmp_path: Path
) -> None:
    """A hold placed in the console keeps its recording through a retention cycle that
    destroys another; the register (with its CSV and XLSX) shows one row per event, the
    destruction included; every view and download of footage in the console is in the
    access log, which an auditor reviews once the month is over."""
    c, server = center
    ledger = c.world.exports.ledger
    if not ledger.entries(event=Event.CASE_DECIDED):
        pytest.skip("needs the decided cases of the tests above (run the module)")
    archive = c.world.config.export.archive_root
    unheld = archive / "cam-2" / "20240501T080000.avi"
    unheld.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(archive / RECORDING, unheld)

    adm = log_in(browser, server.url, "adm")
    adm.goto(f"{server.url}/holds")
    rows = len(ledger.entries())
    adm.fill("#hold-form input[name=recording]", "cam-1/20240501T090000.avi")
    adm.fill("#hold-form input[name=reason]", "court order 2024-77")
    adm.click("#hold-form button[type=submit]")
    assert "no recording" in adm.inner_text("#error-message")
    assert len(ledger.entries()) == rows
    adm.fill("#hold-form input[name=recording]", RECORDING)
    adm.click("#hold-form button[type=submit]")
    adm.wait_for_selector("#holds tbody tr >> text=court order 2024-77")
    assert ledger.entries(event=Event.HOLD_PLACED)[-1].actor == "adm"

    # the access log: rob's look at the review page and ann's download, with their address
    viewed = ledger.entries(event=Event.VIEWED)
    assert {e.actor for e in viewed} >= {"rob"}
    assert all(e.detail["client"] == "127.0.0.1" for e in viewed)
    downloads = ledger.entries(event=Event.DOWNLOADED)
    assert [(e.actor, e.detail["client"]) for e in downloads] == [("ann", "127.0.0.1")]
    month = c.clock().strftime("%Y-%m")
    aud = log_in(browser, server.url, "aud")
    aud.goto(f"{server.url}/access-log?month={month}")
    aud.fill("#review-form input[name=note]", "checked every account")
    aud.click("#review-form button[type=submit]")
    assert "not over" in aud.inner_text("#error-message")  # the month still runs

    c.clock.advance(days=40)  # past retention (30 days), and past the month
    report = c.retention.retention.run()
    assert [d.recording.relative for d in report.destroyed] == ["cam-2/20240501T080000.avi"]
    assert not unheld.exists() and (archive / RECORDING).exists()
    adm.goto(f"{server.url}/holds")
    adm.screenshot(path=str(report_dir(tmp_path) / "holds.png"), full_page=True)

    expected = register_rows(ledger.entries())
    assert [r.kind for r in expected].count("destruction") == 1
    aud.click("#nav-register")
    aud.wait_for_selector("#register")
    assert aud.locator("#register tbody tr").count() == len(expected)
    aud.screenshot(path=str(report_dir(tmp_path) / "register.png"), full_page=True)
    got = aud.request.get(f"{server.url}/register.csv")
    assert got.ok and got.body().startswith(codecs.BOM_UTF8)
    (report_dir(tmp_path) / "register.csv").write_bytes(got.body())
    table = list(csv.reader(io.StringIO(got.body().decode("utf-8-sig"))))
    assert table[0] == header("both") and len(table) - 1 == len(expected)
    got = aud.request.get(f"{server.url}/register.xlsx?kind=access")
    sheet = openpyxl.load_workbook(io.BytesIO(got.body())).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header("both")
    assert len(values) - 1 == sum(1 for r in expected if r.kind == "access")

    aud.goto(f"{server.url}/access-log?month={month}")
    accounts = aud.locator("#access-accounts tbody tr")
    assert {accounts.nth(i).get_attribute("data-account") for i in range(accounts.count())} >= {
        "rob",
        "ann",
    }
    aud.fill("#review-form input[name=note]", "checked every account; nothing unusual")
    aud.click("#review-form button[type=submit]")
    aud.wait_for_selector("#reviewed")
    assert "aud" in aud.inner_text("#reviewed")
    aud.screenshot(path=str(report_dir(tmp_path) / "access_log.png"), full_page=True)
    # the auditor's own check, as they run it, after all of it
    config = c.world.config.export
    pub = str(config.key_path) + ".pub"
    verified = subprocess.run(
        [sys.executable, "-m", "redactor.clients.audit", "ledger", "verify"]
        + ["--db", str(config.ledger_path), "--key", pub],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    c.clock.at = RECEIVED
