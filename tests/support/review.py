"""A real export service with review required, its users, and a planned export of a shared
clip: what the review tests (service, gRPC, console) share."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher

from redactor.config import Config, ExportConfig, ReviewConfig
from redactor.export.jobs import ExportJob, ExportRequest, ExportState
from redactor.export.service import ExportService
from redactor.review.service import ReviewService
from redactor.review.users import User, UserStore

CAMERA = "cam-1"
RECORDING = f"{CAMERA}/20240501T080000.avi"
CLIP_SECONDS = 2.0  # 20 frames of opencv_vtest.avi (10 fps, 768x576): quick with thorough
PASSWORD = "correct horse battery"
# name -> roles; "both" may review and approve, which must not let them approve their own review
USERS: dict[str, tuple[str, ...]] = {
    "rita": ("requester",),
    "rex": ("requester",),
    "rob": ("reviewer",),
    "ann": ("approver",),
    "both": ("reviewer", "approver"),
    "aud": ("auditor",),
    "adm": ("administrator",),
}
REQUEST = ExportRequest(
    recording=RECORDING,
    recipient="police-112",
    officer="Insp. Kim 1234",
    purpose="hit-and-run investigation",
    legal_basis="PIPA art. 18(2)7",
)
# cheap argon2 for tests that log in many times; the production default is tested apart
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def review_config(folder: Path, **review: object) -> Config:
    return Config(
        export=ExportConfig(
            archive_root=folder / "archive",
            output_dir=folder / "exports",
            ledger_path=folder / "ledger.sqlite",
            key_path=folder / "keys" / "signing_key.pem",
            expiry_period_s=3600.0,
            review=ReviewConfig(**{"required": "always", **review}),  # type: ignore[arg-type]
        )
    )


@dataclass
class World:
    config: Config
    exports: ExportService
    users: UserStore
    review: ReviewService
    people: dict[str, User] = field(default_factory=dict)

    def close(self) -> None:
        self.exports.close()
        self.users.close()


class Clock:
    """A clock the test moves: the services read it for every time they record."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def make_world(
    folder: Path, clip: Path, config: Config | None = None, clock: Clock | None = None
) -> World:
    """A service over `clip` as the recording RECORDING, with USERS (password PASSWORD)."""
    config = config or review_config(folder)
    dst = config.export.archive_root / RECORDING
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, dst)
    exports = ExportService(config) if clock is None else ExportService(config, clock=clock)
    users = UserStore(config.users_path, hasher=FAST_HASHER)
    people = {}
    for name, roles in USERS.items():
        try:
            people[name] = users.add(name, PASSWORD, roles)
        except Exception:  # noqa: BLE001 - a restarted world finds its users there
            people[name] = users.get(name)
    return World(config, exports, users, ReviewService(exports, users), people)


def wait_state(world: World, export_id: str, *states: ExportState) -> ExportJob:
    """Follows the export until it reaches one of `states` (or ends)."""
    last = world.exports.get(export_id)
    for job in world.exports.watch(export_id):
        last = job
        if job.state in states:
            return job
    assert last.state in states, f"export {export_id} ended {last.state.name}: {last.error}"
    return last


def planned(world: World, requester: str = "rita", request: ExportRequest = REQUEST) -> ExportJob:
    job = world.review.create_export(world.people[requester], request)
    return wait_state(world, job.id, ExportState.IN_REVIEW)
