"""A center for the case tests: the review world, a clock the test moves, holds and retention
over the same ledger, and the case service (issue 23)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redactor.cases.model import CaseKind, CaseRequest, Form
from redactor.cases.service import CaseService
from redactor.export.jobs import Subject
from redactor.retention import RetentionService
from redactor.types import Label
from support.review import CAMERA, Clock, World, make_world, planned

RECORDED = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)  # support.review.RECORDING's start
RECEIVED = datetime(2024, 5, 2, 9, 0, 0, tzinfo=UTC)
ACCESS = CaseRequest(
    kind=CaseKind.ACCESS,
    requester="Hong Gil-dong",
    camera_id=CAMERA,
    start=RECORDED,
    end=RECORDED + timedelta(seconds=2),
    purpose="to see footage of myself at the crossing",
    legal_basis="PIPA art. 35",
    form=Form.COPY,
    fee=5000,
    contact="hong@example.org",
    description="grey coat, walking left to right",
)
PROVISION = replace(
    ACCESS,
    kind=CaseKind.PROVISION,
    requester="Mapo police station, Insp. Kim",
    recipient="police-112",
    purpose="hit-and-run investigation",
    legal_basis="PIPA art. 18(2)7",
    fee=0,
    description="",
)


class Center:
    """The services a case touches, over one folder, at the clock's time."""

    def __init__(self, folder: Path, clip: Path) -> None:
        self.clock = Clock(RECEIVED)
        self.world: World = make_world(folder, clip, clock=self.clock)
        ex = self.world.exports
        self.retention = RetentionService(self.world.config, ex.ledger, ex.archive, self.clock)
        self.holds = self.retention.holds
        self.cases = CaseService(self.world.config.cases, self.world.review, self.holds)

    def close(self) -> None:
        self.cases.close()
        self.retention.close()
        self.world.close()

    def subject(self) -> Subject:
        """A face of the clip, as the detector tracks it: the person who asks for their footage."""
        job = planned(self.world)
        opened = self.world.review.open(self.world.people["rob"], job.id)
        face = max(
            (t for t in opened.tracks if t.info.label == int(Label.FACE)),
            key=lambda t: t.info.detected_frames,
        )
        x0, y0, x1, y1 = face.info.thumb_box
        return Subject(opened.t_us[face.info.thumb_frame], (x0, y0, x1, y1))
