"""The review console in a real browser (issue 22, "Done when").

Headless Chromium drives the console served by real uvicorn over a real export service
with review required, on 2 s of a shared clip: a requester asks for an export, a reviewer
reviews, a second person approves, the download verifies; four eyes, requesters' walls and
CSRF hold. The tests save screenshots, and the first the open/seek timings (recorded, not
asserted), where $REDACTOR_CONSOLE_REPORT says; the kept ones are in
bench/reports/2026-12-04_review/."""

from __future__ import annotations

import ipaddress
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.clips import cut_clip, source_video
from support.console import log_in, report_dir
from support.review import (
    CLIP_SECONDS,
    FAST_HASHER,
    RECORDING,
    REQUEST,
    World,
    make_world,
    planned,
    wait_state,
)

from redactor.clients import audit
from redactor.config import Config, ServerConfig
from redactor.console.app import FIRST_ADMIN, export_request
from redactor.console.server import ConsoleServer, start_console
from redactor.errors import ConfigError
from redactor.export import keys
from redactor.export.jobs import ExportState, Subject
from redactor.ledger import Event
from redactor.review.model import ADDED_BASE, Decision
from redactor.review.service import ReviewService
from redactor.review.users import UserStore
from redactor.types import Label

# The kept screenshots and timings: REDACTOR_CONSOLE_REPORT=bench/reports/2026-12-04_review
WAIT_MS = 30_000
RENDER_WAIT_MS = 180_000
# A missed object drawn on frame ADD_FRAME, in full-resolution px (the clip is 768x576): the
# front plate of the parked white van; and a correction of it on CORRECT_FRAME.
ADD_FRAME = 10
ADD_BOX = (664.0, 74.0, 708.0, 92.0)
CORRECT_FRAME = 15
CORRECT_BOX = (662.0, 72.0, 710.0, 94.0)

pytestmark = [pytest.mark.data]

SCREENSHOT = {"width": 1440, "height": 1400}


@dataclass
class Console:
    world: World
    server: ConsoleServer

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    clip = tmp_path_factory.mktemp("clip") / "clip.avi"
    cut_clip(source_video(), clip, CLIP_SECONDS)
    world = make_world(tmp_path_factory.mktemp("world"), clip)
    try:
        server = ConsoleServer(world.review, "127.0.0.1", 0)
    except BaseException:
        world.close()
        raise
    try:
        yield Console(world, server)
    finally:
        server.close()
        world.close()


@pytest.fixture(scope="module")
def waiting(console: Console) -> str:
    """An export rita requested, IN_REVIEW, for the tests of refusals (they leave it so)."""
    return planned(console.world, requester="rita").id


# ------------------------------------------------------------------ helpers


def open_review(page: Any, console: Console, export_id: str) -> float:
    """Opens the review page; the wall time until the first frame, its outlines, the track
    list and the timeline are drawn, in ms."""
    t0 = time.perf_counter()
    page.goto(f"{console.url}/exports/{export_id}")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    return (time.perf_counter() - t0) * 1000


def wait_frame(page: Any, n: int) -> None:
    # a selector, not wait_for_function: the page's CSP forbids the eval that one needs
    page.wait_for_selector(f"body[data-shown='{n}']", state="attached")


def seek(page: Any, key: str, n: int) -> None:
    """Presses `key` and waits until the page has drawn frame `n` for it (a seek timed)."""
    before = page.evaluate("window.consoleTimings.seeks.length")
    page.keyboard.press(key)
    wait_frame(page, n)
    deadline = time.monotonic() + WAIT_MS / 1000
    while page.evaluate("window.consoleTimings.seeks.length") == before:
        assert time.monotonic() < deadline, f"{key} did not show frame {n}"
        time.sleep(0.005)


def answer(page: Any, reason: str, label: str | None = None) -> None:
    """Fills the page's reason dialog and sends it."""
    page.wait_for_selector("#ask[open]")
    if label is not None:
        page.select_option("#ask-label", label)
    page.fill("#ask-reason", reason)
    page.press("#ask-reason", "Enter")
    page.wait_for_selector("#ask:not([open])", state="attached")


def decide(page: Any, track_id: int, key: str, reason: str, decision: str) -> None:
    page.click(f'#track-list li[data-track="{track_id}"]')
    page.wait_for_selector(f'#track-list li.selected[data-track="{track_id}"]')
    page.keyboard.press(key)
    answer(page, reason)
    page.wait_for_selector(f'#track-list li.decision-{decision}[data-track="{track_id}"]')


def drag_box(page: Any, box: tuple[float, float, float, float], width: int) -> None:
    """Draws `box` (full-resolution px) with the mouse on the frame's canvas."""
    page.locator("#overlay").scroll_into_view_if_needed()
    r = page.locator("#overlay").bounding_box()
    s = r["width"] / width
    page.mouse.move(r["x"] + box[0] * s, r["y"] + box[1] * s)
    page.mouse.down()
    page.mouse.move(r["x"] + (box[0] + box[2]) / 2 * s, r["y"] + (box[1] + box[3]) / 2 * s, steps=4)
    page.mouse.move(r["x"] + box[2] * s, r["y"] + box[3] * s, steps=4)
    page.mouse.up()


def frame_json(page: Any, export_id: str, n: int) -> dict[str, Any]:
    """A frame's masks as the page gets them (through the console's API)."""
    result: dict[str, Any] = page.evaluate(
        "async (u) => (await fetch(u)).json()", f"/api/exports/{export_id}/frames/{n}"
    )
    return result


def outlined(page: Any, export_id: str, n: int, track_id: int) -> list[list[float]]:
    return [m["box"] for m in frame_json(page, export_id, n)["masks"] if m["track_id"] == track_id]


def post_json(page: Any, url: str, body: dict[str, Any], csrf: str | None) -> Any:
    headers = {"content-type": "application/json"}
    if csrf is not None:
        headers["x-csrf-token"] = csrf
    return page.request.post(url, data=json.dumps(body), headers=headers)


def csrf_of(page: Any) -> str:
    """The session's CSRF token, as every page carries it (in the sign-out form)."""
    token: str = page.input_value("form[action='/logout'] input[name=csrf]")
    return token


# what a requester types into the New export form (field name -> value)
LEGAL = {
    "recipient": REQUEST.recipient,
    "officer": REQUEST.officer,
    "purpose": REQUEST.purpose,
    "legal_basis": REQUEST.legal_basis,
}


def fill_export_form(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        if name == "policy":
            page.select_option("#f-policy", value)
        else:
            page.fill(f"#f-{name}", value)


def requested(world: World) -> int:
    """How many export requests the ledger holds (each one, granted or refused, is a row)."""
    return len(world.exports.ledger.entries(event=Event.REQUESTED))


def two_faces(console: Console, export_id: str) -> tuple[int, int]:
    tracks = console.world.review.open(console.world.people["rob"], export_id).tracks
    faces = sorted(
        (t for t in tracks if t.info.label == int(Label.FACE)),
        key=lambda t: -t.info.detected_frames,
    )
    assert len(faces) >= 2, f"expected two face tracks on the clip, got {len(faces)}"
    return faces[0].info.id, faces[1].info.id


# ------------------------------------------------------------------ tests


def test_review_in_the_browser_then_approve_download_and_verify(
    console: Console, browser: Any, tmp_path: Path
) -> None:
    """A reviewer leaves the subject visible, drops a false positive and draws a missed
    object (tracked both ways, then corrected); a second person approves; the downloaded
    export verifies and its manifest lists those edits."""
    world = console.world
    job = planned(world)
    shown, dropped = two_faces(console, job.id)
    report = report_dir(tmp_path)

    page = log_in(browser, console.url, "rob")
    row = page.locator(f'tr[data-export="{job.id}"]')
    assert "IN_REVIEW" in row.inner_text()
    open_wall_ms = open_review(page, console, job.id)
    open_js_ms = page.evaluate("window.consoleTimings.open_ms")
    n_tracks = len(world.review.open(world.people["rob"], job.id).tracks)
    assert page.locator("#track-list li").count() == n_tracks

    decide(page, shown, "v", "the data subject named in the request", "VISIBLE")
    decide(page, dropped, "f", "a reflection in the shop window, not a face", "FALSE_POSITIVE")

    # seeks by keyboard, each timed by the page from the key press to the outlines drawn
    page.locator("#frame-no").click()  # focus on the page, not a list item
    page.keyboard.press("Home")
    wait_frame(page, 0)
    page.evaluate("window.consoleTimings.seeks.length = 0")
    presses = (
        ("ArrowRight", 1),
        ("ArrowRight", 2),
        ("Shift+ArrowRight", 12),
        ("ArrowLeft", 11),
        ("Shift+ArrowLeft", 1),
        ("End", 19),
        ("Home", 0),
        ("Shift+ArrowRight", 10),
    )
    for key, n in presses:
        seek(page, key, n)
    seek(page, "r", 10)  # as released: the proxy masked by the render's own code
    for key, n in (
        ("ArrowRight", 11),
        ("ArrowRight", 12),
        ("Shift+ArrowLeft", 2),
        ("ArrowLeft", 1),
        ("End", 19),
        ("Home", 0),
        ("Shift+ArrowRight", 10),
    ):
        seek(page, key, n)
    seek(page, "r", 10)  # back to the original
    seeks = page.evaluate("window.consoleTimings.seeks")

    # a missed object: one box on frame 10, followed both ways
    assert ADD_FRAME == 10
    page.keyboard.press("a")
    drag_box(page, ADD_BOX, job_width := 768)
    answer(page, "the van's number plate, missed by the detector", label="PLATE")
    page.wait_for_selector("#status.ok >> text=added")
    page.wait_for_selector("body[data-version='3']", state="attached")
    added = ADDED_BASE + 1
    page.wait_for_selector(f'#track-list li.selected[data-track="{added}"]')
    for n in (ADD_FRAME - 5, ADD_FRAME, ADD_FRAME + 5):
        boxes = outlined(page, job.id, n, added)
        assert len(boxes) == 1, f"object {added} is not outlined on frame {n}"
    drawn = outlined(page, job.id, ADD_FRAME, added)[0]
    assert drawn == pytest.approx(list(ADD_BOX), abs=1.5)  # scaled from the canvas, back

    # a correction: with the object selected, a box on another frame
    for _ in range(CORRECT_FRAME - ADD_FRAME):
        page.keyboard.press("ArrowRight")
    wait_frame(page, CORRECT_FRAME)
    page.keyboard.press("a")
    drag_box(page, CORRECT_BOX, job_width)
    assert page.is_checked("#ask-correct")
    answer(page, "the box slipped off the plate")
    page.wait_for_selector("#status.ok >> text=corrected")
    page.wait_for_selector("body[data-version='4']", state="attached")
    assert outlined(page, job.id, CORRECT_FRAME, added)[0] == pytest.approx(
        list(CORRECT_BOX), abs=1.5
    )
    wait_frame(page, CORRECT_FRAME)
    # tall enough for the whole page; not full_page, which resets the track list's scroll
    page.set_viewport_size(SCREENSHOT)
    page.wait_for_timeout(200)  # the resize redraws the timeline and scrolls the list
    page.screenshot(path=str(report / "review_page.png"))
    page.click("text=Sign out")
    page.wait_for_url(f"{console.url}/login")
    page.context.close()

    # a second person approves on the approval page
    page = log_in(browser, console.url, "ann", accept_downloads=True)
    page.goto(f"{console.url}/exports/{job.id}/approve")
    counts = page.locator("#counts").inner_text()
    assert "Left visible\t1" in counts and "False positives\t1" in counts
    edits = page.locator("#edits").inner_text()
    assert "add_object" in edits and "correct_object" in edits and "VISIBLE" in edits
    page.fill("#approve-form input[name=reason]", "checked every track and the added plate")
    page.screenshot(path=str(report / "approval_page.png"), full_page=True)
    page.click("#approve-form button[type=submit]")
    page.wait_for_selector("#download-video", timeout=RENDER_WAIT_MS)
    assert page.locator("#state").inner_text() == "DONE"
    page.screenshot(path=str(report / "approval_done.png"), full_page=True)

    video, manifest = tmp_path / "export.mp4", tmp_path / "export.manifest.json"
    for link, dst in (("#download-video", video), ("#download-manifest", manifest)):
        with page.expect_download() as got:
            page.click(link)
        got.value.save_as(str(dst))
    page.context.close()

    pub = keys.public_path(world.config.export.key_path)
    assert audit.main(["verify", str(video), str(manifest), "--key", str(pub)]) == 0
    review = json.loads(manifest.read_text())["manifest"]["review"]
    actions = [(e["action"], e["actor"]) for e in review["edits"]]
    assert actions == [
        ("decide", "rob"),
        ("decide", "rob"),
        ("add_object", "rob"),
        ("correct_object", "rob"),
        ("approve", "ann"),
    ]
    assert [e["detail"].get("decision") for e in review["edits"][:2]] == [
        "VISIBLE",
        "FALSE_POSITIVE",
    ]
    assert review["edits"][0]["track_ids"] == [shown]
    assert review["edits"][1]["track_ids"] == [dropped]
    assert review["edits"][2]["track_ids"] == [added]

    by_view: dict[str, list[float]] = {}
    for one in seeks:
        by_view.setdefault(one["view"], []).append(one["ms"])
    (report / "console_timings.json").write_text(
        json.dumps(
            {
                "what": "review console in headless Chromium (tests/console), real uvicorn on "
                "127.0.0.1, 2 s of opencv_vtest.avi (20 frames, 768x576, proxy 640 px)",
                "open_review_page_ms": {
                    "wall": round(open_wall_ms, 1),
                    "in_page": round(open_js_ms, 1),
                    "means": "navigation to the first frame, its outlines, the track list and "
                    "the timeline drawn (wall: from goto in the test; in_page: "
                    "performance.now() at that moment)",
                },
                "seek_ms": {
                    view: {
                        "each": [round(v, 1) for v in ms],
                        "median": round(statistics.median(ms), 1),
                        "max": round(max(ms), 1),
                    }
                    for view, ms in by_view.items()
                }
                | {
                    "means": "key press to the new frame's image decoded and its outlines drawn; "
                    "original: the proxy JPEG as stored, released: the proxy masked on request "
                    "by the render's own masking (the 'as released' switch)"
                },
                "tracks": n_tracks,
                "frames": 20,
                "browser": browser.version,
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
            indent=2,
        )
        + "\n"
    )


def test_a_reviewer_cannot_approve_their_own_review(
    console: Console, browser: Any, waiting: str
) -> None:
    """Someone with both roles who changed the review sees why they may not approve it; an
    approval they send anyway is refused and the export stays IN_REVIEW."""
    world = console.world
    job = world.exports.get(waiting)
    page = log_in(browser, console.url, "both")
    open_review(page, console, job.id)
    track = two_faces(console, job.id)[0]
    decide(page, track, "f", "a sign, not a face", "FALSE_POSITIVE")
    page.goto(f"{console.url}/exports/{job.id}/approve")
    assert "different person" in page.locator("#denied").inner_text()
    version = world.review.open(world.people["rob"], job.id).version
    with page.expect_navigation() as navigated:
        page.click("#approve-form button[type=submit]")
    assert navigated.value.status == 403
    assert "different person" in page.locator("#error-message").inner_text()
    assert page.locator("#state").inner_text() == "IN_REVIEW"
    assert world.exports.get(job.id).state is ExportState.IN_REVIEW
    assert world.review.open(world.people["rob"], job.id).version == version
    page.context.close()


def test_a_requester_cannot_open_another_requesters_export(
    console: Console, browser: Any, waiting: str
) -> None:
    world = console.world
    job = world.exports.get(waiting)
    assert job.requested_by == "rita"
    page = log_in(browser, console.url, "rex")
    assert page.locator(f'tr[data-export="{job.id}"]').count() == 0  # not listed either
    for path in (f"/exports/{job.id}", f"/exports/{job.id}/approve"):
        got = page.goto(f"{console.url}{path}")
        assert got.status == 403, path
        assert "requested by someone else" in page.locator("#error-message").inner_text()
    api = page.request.get(f"{console.url}/api/exports/{job.id}/frames/0.jpg?view=released")
    assert api.status == 403
    page.context.close()
    own = log_in(browser, console.url, "rita")  # the requester herself may open it
    assert own.goto(f"{console.url}/exports/{job.id}/approve").status == 200
    own.context.close()
    assert world.exports.get(job.id).state is ExportState.IN_REVIEW


def test_a_forged_post_without_its_csrf_token_is_refused(
    console: Console, browser: Any, waiting: str
) -> None:
    """Form and API posts without the session's token (or with another) get 403 and change
    nothing: no edit, no new version, no ledger row."""
    world = console.world
    job = world.exports.get(waiting)
    track = two_faces(console, job.id)[1]
    before = world.exports.ledger.entries(export_id=job.id)
    version = world.review.open(world.people["rob"], job.id).version

    page = log_in(browser, console.url, "rob")
    url = f"{console.url}/api/exports/{job.id}/tracks/{track}/decision"
    body = {"decision": "VISIBLE", "reason": "forged", "version": 0}
    for token in (None, "", "not-the-token"):
        got = post_json(page, url, body, token)
        assert got.status == 403, token
        assert "CSRF" in got.json()["error"]
    page.context.close()

    page = log_in(browser, console.url, "ann")
    form = {"version": str(version), "reason": "forged"}
    for fields in (form, {**form, "csrf": "not-the-token"}):
        got = page.request.post(f"{console.url}/exports/{job.id}/approve", form=fields)
        assert got.status == 403
        assert "CSRF" in got.text()
    logout = page.request.post(f"{console.url}/logout", form={})
    assert logout.status == 403  # still signed in
    assert page.goto(f"{console.url}/").status == 200
    page.context.close()

    assert world.exports.get(job.id).state is ExportState.IN_REVIEW
    assert world.review.open(world.people["rob"], job.id).version == version
    after = world.exports.ledger.entries(export_id=job.id)
    assert [e.seq for e in after] == [e.seq for e in before]


def test_a_stale_page_gets_the_conflict_and_then_the_current_data(
    console: Console, browser: Any, waiting: str
) -> None:
    """A track changed elsewhere after the page loaded: the page's change names the old
    version, is refused with the service's message, and the page shows what is current."""
    world = console.world
    rob = world.people["rob"]
    track = two_faces(console, waiting)[1]
    page = log_in(browser, console.url, "rob")
    open_review(page, console, waiting)
    seen = next(t for t in world.review.open(rob, waiting).tracks if t.info.id == track)
    world.review.decide(
        rob, waiting, track, Decision.VISIBLE, "decided in another tab", seen.version
    )
    page.click(f'#track-list li[data-track="{track}"]')
    page.keyboard.press("f")
    answer(page, "decided on a stale page")
    page.wait_for_selector("#status.error >> text=reload and decide again")
    page.wait_for_selector(f'#track-list li.decision-VISIBLE[data-track="{track}"]')
    now = next(t for t in world.review.open(rob, waiting).tracks if t.info.id == track)
    assert now.decision is Decision.VISIBLE and now.version == seen.version + 1
    page.context.close()


def test_grouping_tracks_and_signing_off_in_the_browser(
    console: Console, browser: Any, waiting: str
) -> None:
    """Two ticked tracks grouped as one person (a decision on one then applies to both),
    and a sign-off without changes: each an edit with its reason."""
    world = console.world
    rob = world.people["rob"]
    faces = sorted(
        (t for t in world.review.open(rob, waiting).tracks if not t.group),
        key=lambda t: -t.info.detected_frames,
    )
    a, b = faces[-2].info.id, faces[-1].info.id
    page = log_in(browser, console.url, "rob")
    open_review(page, console, waiting)
    for t in (a, b):
        page.check(f'#track-list li[data-track="{t}"] input.tick')
    page.locator("#frame-no").click()
    page.keyboard.press("g")
    answer(page, "the same man, lost behind the lamp post")
    page.wait_for_selector("#status.ok >> text=grouped")
    decide(page, a, "v", "the data subject, both tracks", "VISIBLE")
    page.wait_for_selector(f'#track-list li.decision-VISIBLE[data-track="{b}"]')
    page.click("#sign-off")
    answer(page, "went through every frame")
    page.wait_for_selector("#status.ok >> text=signed off")
    edits = world.review.open(rob, waiting).edits
    assert [e.action for e in edits[-3:]] == ["group", "decide", "sign_off"]
    assert sorted(edits[-2].track_ids) == sorted((a, b))
    page.context.close()


def test_pages_are_not_framed_cached_or_scripted_from_elsewhere(
    console: Console, browser: Any, waiting: str
) -> None:
    page = log_in(browser, console.url, "rob")
    cookie = next(c for c in page.context.cookies() if c["name"] == "redactor_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    for path in (
        "/",
        f"/exports/{waiting}",
        f"/exports/{waiting}/approve",
        f"/api/exports/{waiting}/frames/0",
        f"/api/exports/{waiting}/frames/0.jpg?view=original",
    ):
        got = page.request.get(f"{console.url}{path}")
        assert got.status == 200, path
        assert got.headers["x-frame-options"] == "DENY", path
        assert got.headers["cache-control"] == "no-store", path
        csp = got.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
    # a message that holds markup is shown as text
    got = page.goto(f"{console.url}/exports/%3Cb%3Ebold")
    assert got.status == 404
    assert "<b>bold" in page.locator("#error-message").inner_text()
    assert page.locator("#error-message b").count() == 0
    page.context.close()


def test_a_requester_asks_for_an_export_in_the_console(
    console: Console, browser: Any, tmp_path: Path
) -> None:
    """New export on the exports list, the form for one recording with the four fields the
    law requires: the export is listed, planned and waits for review, as requested by them."""
    world = console.world
    before = {j.id for j in world.exports.list_jobs()}
    page = log_in(browser, console.url, "rex")
    page.click("#new-export")
    page.wait_for_url(f"{console.url}/exports/new")
    assert "UTC" in page.locator("label[for=f-start]").inner_text()
    assert page.locator("#f-policy option").all_inner_texts() == [
        f"Default ({world.config.export.default_policy})",
        *sorted(world.config.policy.policies),
    ]
    fill_export_form(page, {"recording": RECORDING, **LEGAL, "expiry_days": "7"})
    page.screenshot(path=str(report_dir(tmp_path) / "new_export.png"), full_page=True)
    with page.expect_navigation() as navigated:
        page.click("#export-form button[type=submit]")
    assert navigated.value.url == f"{console.url}/"  # after the 303

    (job_id,) = {j.id for j in world.exports.list_jobs()} - before
    row = page.locator(f'tr[data-export="{job_id}"]')
    assert row.locator(".state").inner_text() in ("QUEUED", "RUNNING", "IN_REVIEW")
    assert REQUEST.recipient in row.inner_text() and "rex" in row.inner_text()
    job = wait_state(world, job_id, ExportState.IN_REVIEW)
    assert job.requested_by == "rex" and job.source == RECORDING
    assert job.request.legal_basis == REQUEST.legal_basis and job.request.officer == REQUEST.officer
    assert (job.expires_at - job.created_at).days == 7
    assert job.policy == world.config.export.default_policy and job.request.subject is None
    page.reload()
    assert row.locator(".state").inner_text() == "IN_REVIEW"
    page.context.close()


def test_an_export_form_without_a_legal_basis_is_refused_and_keeps_what_was_typed(
    console: Console, browser: Any, tmp_path: Path
) -> None:
    """The browser stops an empty required field; sent anyway, the service refuses it (400,
    naming legal_basis, on the ledger) and the form comes back filled in. Errors are text."""
    world = console.world
    jobs, asked = len(world.exports.list_jobs()), requested(world)
    page = log_in(browser, console.url, "rex")
    page.goto(f"{console.url}/exports/new")
    typed = {
        "recording": RECORDING,
        **LEGAL,
        "purpose": "<b>robbery</b> at the kiosk",
        "legal_basis": "",
        "policy": "strict",
        "expiry_days": "12",
    }
    fill_export_form(page, typed)
    page.click("#export-form button[type=submit]")
    assert page.locator("#f-legal_basis:invalid").count() == 1  # the browser said so
    assert page.url == f"{console.url}/exports/new" and requested(world) == asked

    page.eval_on_selector("#export-form", "f => { f.noValidate = true; }")  # sent anyway
    with page.expect_navigation() as navigated:
        page.click("#export-form button[type=submit]")
    assert navigated.value.status == 400
    assert "legal_basis is required" in page.locator("#error-message").inner_text()
    assert page.locator("#f-legal_basis[aria-invalid=true]").count() == 1
    for name, value in typed.items():
        assert page.input_value(f"#f-{name}") == value, name
    assert page.locator("#export-form b").count() == 0
    page.screenshot(path=str(report_dir(tmp_path) / "new_export_refused.png"), full_page=True)

    # an unknown recording: 404, the message (which names it) shown as text
    page.fill("#f-legal_basis", REQUEST.legal_basis)
    page.fill("#f-recording", "cam-1/<b>none</b>.avi")
    with page.expect_navigation() as navigated:
        page.click("#export-form button[type=submit]")
    assert navigated.value.status == 404
    assert "no recording 'cam-1/<b>none</b>.avi'" in page.locator("#error-message").inner_text()
    assert page.locator("#error-message b").count() == 0
    assert page.input_value("#f-legal_basis") == REQUEST.legal_basis
    page.context.close()

    assert len(world.exports.list_jobs()) == jobs
    refusals = world.exports.ledger.entries(event=Event.REFUSED)[-2:]
    assert [e.actor for e in refusals] == ["rex", "rex"]
    assert "legal_basis" in refusals[0].detail["reason"]
    assert requested(world) == asked + 2


def test_a_reviewer_may_not_ask_for_an_export(console: Console, browser: Any) -> None:
    world = console.world
    jobs = len(world.exports.list_jobs())
    page = log_in(browser, console.url, "rob")
    assert page.locator("#new-export").count() == 0
    got = page.goto(f"{console.url}/exports/new")
    assert got.status == 403
    assert "create_export needs role requester" in page.locator("#error-message").inner_text()
    body = {"recording": RECORDING, **LEGAL}
    api = post_json(page, f"{console.url}/api/exports", body, csrf_of(page))
    assert api.status == 403 and "create_export" in api.json()["error"]
    page.context.close()
    assert len(world.exports.list_jobs()) == jobs
    assert world.exports.ledger.entries(event=Event.REFUSED)[-1].actor == "rob"


def test_an_export_request_without_its_csrf_token_is_refused(
    console: Console, browser: Any
) -> None:
    """Form and API requests without the session's token (or with another) get 403 and
    create nothing, not even a ledger row; with the token, the same API call is judged."""
    world = console.world
    jobs, asked = len(world.exports.list_jobs()), requested(world)
    page = log_in(browser, console.url, "rex")
    form = {"recording": RECORDING, **LEGAL}
    for fields in (form, {**form, "csrf": "not-the-token"}):
        got = page.request.post(f"{console.url}/exports/new", form=fields)
        assert got.status == 403
        assert "CSRF" in got.text()
    for token in (None, "not-the-token"):
        got = post_json(page, f"{console.url}/api/exports", form, token)
        assert got.status == 403 and "CSRF" in got.json()["error"]
    assert len(world.exports.list_jobs()) == jobs and requested(world) == asked

    # the token was all that was missing: with it, the API judges the request (no legal basis)
    got = post_json(page, f"{console.url}/api/exports", {**form, "legal_basis": ""}, csrf_of(page))
    assert got.status == 400 and got.json()["kind"] == "MissingField"
    assert "legal_basis is required" in got.json()["error"]
    page.context.close()
    assert len(world.exports.list_jobs()) == jobs and requested(world) == asked + 1


def test_export_form_values_are_read_as_the_form_says() -> None:
    """Times without an offset are UTC; subject access is seconds and a box; what cannot be
    read is named (and left out of the request, which is then only recorded)."""
    req, problems = export_request(
        {
            "camera_id": " cam-1 ",
            "start": "2024-05-01T08:00",
            "end": "2024-05-01T10:00:05+02:00",
            "expiry_days": "3",
            "subject_t": "1.25",
            "subject_x0": "10",
            "subject_y0": "20",
            "subject_x1": "30.5",
            "subject_y1": "40",
            **LEGAL,
        }
    )
    assert problems == []
    assert req.camera_id == "cam-1" and req.expiry_days == 3
    assert req.start == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert req.end == datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)
    assert req.subject == Subject(1_250_000, (10.0, 20.0, 30.5, 40.0))
    req, problems = export_request(
        {"start": "yesterday", "expiry_days": "2.5", "subject_t": "nan", "subject_x0": "1"}
    )
    assert req.start is None and req.expiry_days == 0 and req.subject is None
    assert [p.split(" ")[0] for p in problems] == ["expiry_days", "subject_t", "subject", "start"]


def test_the_login_page_says_how_to_create_the_first_administrator(
    console: Console, browser: Any, tmp_path: Path
) -> None:
    users = UserStore(tmp_path / "empty.sqlite", hasher=FAST_HASHER)
    server = ConsoleServer(ReviewService(console.world.exports, users))
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/login")
        assert FIRST_ADMIN in page.locator("#no-users").inner_text()
        assert FIRST_ADMIN == "redactor users add admin --role administrator"
    finally:
        page.close()
        server.close()
        users.close()


def test_the_console_needs_tls_off_loopback_and_then_sets_secure_cookies(
    console: Console, browser: Any, tmp_path: Path
) -> None:
    review = console.world.review
    with pytest.raises(ConfigError, match="not loopback"):
        start_console(Config(), review, "0.0.0.0:0")
    cert, key = self_signed(tmp_path)
    server = start_console(
        Config(server=ServerConfig(tls_cert=cert, tls_key=key)), review, "127.0.0.1:0"
    )
    try:
        assert server.url.startswith("https://127.0.0.1:")
        page = log_in(browser, server.url, "rob", ignore_https_errors=True)
        cookie = next(c for c in page.context.cookies() if c["name"] == "redactor_session")
        assert cookie["secure"] and cookie["httpOnly"]
        page.context.close()
    finally:
        server.close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "console.crt", folder / "console.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
