"""The export service: requests in, redacted copies and signed manifests out, all on the ledger.

Transport-free (the gRPC servicer is a thin layer over it). Jobs run on worker
threads, one export at a time per worker; each coordinates its export's
segment tasks on the backend (redactor.export.executor: threads here, or a Dask
cluster) and is the only one to touch the ledger and the key. An expiry
thread deletes expired exports every `export.expiry_period_s` and records that
on the ledger. Time
comes from `clock` (injectable, so tests can move past an expiry without
sleeping); every ledger row and job time uses it.

Files: `<output_dir>/<id>.mp4` and `<id>.manifest.json`, written under
`.partial` names and renamed when both are complete, so an interrupted export
never leaves a file that looks finished; encoded segments wait for the join in
`<id>.segments.partial/`, deleted whatever the end. Exports that were queued or running
when the service stopped are failed (and recorded) at the next start.

Detection always uses the profile of the configured export policy
(`export.default_policy`, the thorough profile by default); the request's
policy chooses what is masked and how.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

from redactor.config import Config, ObjectsConfig
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector
from redactor.errors import (
    ConfigError,
    Conflict,
    FailedPrecondition,
    NotFound,
    RedactorError,
)
from redactor.export import executor, keys, manifest, segments
from redactor.export.archive import Archive, Selection
from redactor.export.coordinator import SegmentRun
from redactor.export.jobs import MAX_FIELD_CHARS, ExportJob, ExportRequest, ExportState, JobStore
from redactor.export.objects import plan_objects
from redactor.export.redact import (
    LOOK_FULL,
    LOOK_REGIONS,
    DetectPass,
    EncodeResult,
    Plan,
    plan_masks,
    track,
)
from redactor.export.segments import Segment
from redactor.export.video import mark_text
from redactor.ledger import Event, Ledger
from redactor.policy import PolicyRouter
from redactor.review import apply, bundle, proxy
from redactor.review.model import Review
from redactor.review.store import ReviewStore
from redactor.track import TrackerParams

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DetectorFactory = executor.DetectorFactory  # profile name → detector (one per segment thread)
Artifact = Literal["video", "manifest"]
WATCH_POLL_S = 0.5  # how often a watch re-checks that its caller is still there
_PARTIAL = ".partial"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Download:
    """An opened artifact: the handle stays readable even if expiry deletes the file."""

    file: BinaryIO
    size: int
    sha256: str
    name: str


class ExportService:
    def __init__(
        self,
        config: Config,
        clock: Clock = utc_now,
        detector_factory: DetectorFactory | None = None,
    ) -> None:
        self.config = config
        self.cfg = config.export
        self.clock = clock
        if self.cfg.default_policy not in config.policy.policies:
            raise ConfigError(
                f"export.default_policy {self.cfg.default_policy!r} is not defined; "
                f"defined: {sorted(config.policy.policies)}"
            )
        self.profile = config.policy.policies[self.cfg.default_policy].profile
        self._closed = threading.Event()
        # first: an unreachable cluster stops the start before anything is opened
        self.backend = executor.backend(
            self.cfg.cluster,
            self.cfg.threads,
            detector_factory or self._build_detector,
            self._closed,
        )
        try:
            self.router = PolicyRouter(config.policy)
            self.archive = Archive(self.cfg.archive_root)
            self.output_dir = Path(self.cfg.output_dir)
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self.key = keys.load_or_create(self.cfg.key_path)
            self.ledger = Ledger(self.cfg.ledger_path, self.key, clock=lambda: self.clock())
            self.store = JobStore(self.cfg.ledger_path)
            self.reviews = ReviewStore(self.cfg.ledger_path)
            self._cond = threading.Condition()
            self._jobs: dict[str, ExportJob] = {}
            self._selections: dict[str, Selection] = {}
            self._queue: queue.Queue[str | None] = queue.Queue()
            self._recover()
            self._threads = [
                threading.Thread(target=self._worker, name=f"export-{i}", daemon=True)
                for i in range(self.cfg.workers)
            ]
            self._threads.append(
                threading.Thread(
                    target=self._expire_periodically, name="export-expiry", daemon=True
                )
            )
            for t in self._threads:
                t.start()
        except BaseException:
            self.backend.close()
            raise

    # ------------------------------------------------------------ requests

    def refuse(self, request: ExportRequest, actor: str, reason: str) -> None:
        """Records a request refused before it reached `create` (e.g. the caller's role)."""
        self._ledger_request(request, actor)
        self.ledger.append(
            Event.REFUSED,
            actor=actor,
            camera_id=_clip(request.camera_id),
            recipient=_clip(request.recipient),
            detail={"reason": _clip(reason)},
        )

    def create(self, request: ExportRequest, actor: str) -> ExportJob:
        """Validates, approves and queues an export; every outcome is on the ledger."""
        self._ledger_request(request, actor)
        try:
            request.validate(self.cfg.max_expiry_days)
            resolved = self.router.by_name(request.policy or self.cfg.default_policy)
            selection = self._select(request)
        except RedactorError as e:
            self.ledger.append(
                Event.REFUSED,
                actor=actor,
                camera_id=_clip(request.camera_id),
                recipient=_clip(request.recipient),
                detail={"reason": _clip(str(e))},
            )
            raise
        now = self.clock()
        days = request.expiry_days or self.cfg.expiry_days
        job = ExportJob(
            id=secrets.token_hex(8),
            request=request,
            requested_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=days),
            camera_id=selection.camera_id,
            source=selection.relative,
            policy=resolved.name,
            frames_total=_estimate_frames(selection),
            review_required=self.review_required(request, resolved.policy.release_unreviewed),
        )
        self.ledger.append(
            Event.APPROVED,
            export_id=job.id,
            actor=actor,
            camera_id=job.camera_id,
            recipient=request.recipient,
            detail={
                "source": job.source,
                "policy": job.policy,
                "expires_at": job.expires_at.isoformat(),
                "review_required": job.review_required,
                "case_id": request.case_id,
            },
        )
        with self._cond:
            self._jobs[job.id] = job
            self._selections[job.id] = selection
            self.store.save(job)
            snap = job.snapshot()
        self._queue.put(job.id)
        return snap

    def _select(self, request: ExportRequest) -> Selection:
        if request.recording:
            return self.archive.select_file(request.recording)
        assert request.start is not None and request.end is not None  # validated
        return self.archive.select_range(request.camera_id, request.start, request.end)

    def review_required(self, request: ExportRequest, release_unreviewed: bool = False) -> bool:
        """Whether a person reviews and a second approves before release (export.review; under
        external_or_subject, a policy with release_unreviewed opts out, never for subject access)."""
        rule = self.cfg.review.required
        if rule != "external_or_subject":
            return rule == "always"
        if release_unreviewed and request.subject is None:
            return False
        return (
            request.subject is not None
            or request.recipient not in self.cfg.review.internal_recipients
        )

    # ------------------------------------------------------------ review outcomes

    def mark_approved(self, export_id: str, approver: str) -> ExportJob:
        """IN_REVIEW → APPROVED, and the render is queued (redactor.review records why)."""
        with self._cond:
            job = self._in_review(export_id)
            self._update(job, state=ExportState.APPROVED, approved_by=approver)
            snap = job.snapshot()
        self._queue.put(export_id)
        return snap

    def mark_rejected(self, export_id: str, approver: str, reason: str) -> ExportJob:
        """IN_REVIEW → REJECTED: nothing is rendered; the plan and proxy are deleted."""
        with self._cond:
            job = self._in_review(export_id)
            self._update(job, state=ExportState.REJECTED, approved_by=approver, error=reason)
            snap = job.snapshot()
        shutil.rmtree(self.review_dir(export_id), ignore_errors=True)
        return snap

    def _in_review(self, export_id: str) -> ExportJob:
        job = self._jobs.get(export_id)
        if job is None:
            raise NotFound(f"no export {export_id!r}")
        if job.state is not ExportState.IN_REVIEW:
            by = f" by {job.approved_by}" if job.approved_by else ""
            raise Conflict(f"export {export_id} is {job.state.name}{by}, no longer IN_REVIEW")
        return job

    def _ledger_request(self, request: ExportRequest, actor: str) -> None:
        self.ledger.append(
            Event.REQUESTED,
            actor=actor,
            camera_id=_clip(request.camera_id),
            recipient=_clip(request.recipient),
            detail=request.to_json(clip=True),
        )

    # ------------------------------------------------------------ reading jobs

    def get(self, export_id: str) -> ExportJob:
        with self._cond:
            job = self._jobs.get(export_id)
            if job is None:
                raise NotFound(f"no export {export_id!r}")
            return job.snapshot()

    def list_jobs(self, camera_id: str = "", recipient: str = "") -> list[ExportJob]:
        with self._cond:
            return [
                j.snapshot()
                for j in self._jobs.values()
                if (not camera_id or j.camera_id == camera_id)
                and (not recipient or j.request.recipient == recipient)
            ]

    def watch(
        self, export_id: str, active: Callable[[], bool] = lambda: True
    ) -> Iterator[ExportJob]:
        """The job now, then after every change, until it ends (or the caller leaves)."""
        seen = -1
        while True:
            with self._cond:
                job = self._jobs.get(export_id)
                if job is None:
                    raise NotFound(f"no export {export_id!r}")
                if job.version == seen and not job.state.terminal:
                    self._cond.wait(WATCH_POLL_S)
                    job = self._jobs[export_id]
                changed = job.version != seen
                seen = job.version
                snap = job.snapshot()
            if changed:
                yield snap
            if snap.state.terminal or self._closed.is_set() or not active():
                return

    # ------------------------------------------------------------ downloads

    def refuse_download(
        self, export_id: str, artifact: str, actor: str, reason: str, *, client: str = ""
    ) -> None:
        with self._cond:
            job = self._jobs.get(export_id)
        self.ledger.append(
            Event.DOWNLOAD_REFUSED,
            export_id=_clip(export_id),
            actor=actor,
            camera_id=job.camera_id if job else "",
            recipient=job.request.recipient if job else "",
            detail={
                "artifact": artifact,
                "reason": _clip(reason),
                "client": _clip(client),
                "source": job.source if job else "",
            },
        )

    def open_download(
        self, export_id: str, artifact: Artifact, actor: str, *, client: str = ""
    ) -> Download:
        """Opens an artifact of a finished export and records the provision; `client` (the
        caller's address) makes the row part of the access log (redactor.ledger.access_log)."""
        try:
            with self._cond:
                job = self._jobs.get(export_id)
                if job is None:
                    raise NotFound(f"no export {export_id!r}")
                if job.state is ExportState.EXPIRED:
                    raise FailedPrecondition(
                        f"export {export_id} expired at {job.expires_at.isoformat()} "
                        "and was deleted"
                    )
                if job.state is not ExportState.DONE:
                    raise FailedPrecondition(f"export {export_id} is {job.state.name}, not DONE")
                if self.clock() >= job.expires_at:
                    raise FailedPrecondition(
                        f"export {export_id} expired at {job.expires_at.isoformat()}"
                    )
                path = Path(job.video_path if artifact == "video" else job.manifest_path)
                f = path.open("rb")
        except (RedactorError, OSError) as e:
            self.refuse_download(export_id, artifact, actor, str(e), client=client)
            if isinstance(e, OSError):
                raise NotFound(f"export {export_id}: its {artifact} file is missing") from e
            raise
        size = os.fstat(f.fileno()).st_size
        digest = job.output_sha256 if artifact == "video" else manifest.sha256_file(path)
        self.ledger.append(
            Event.DOWNLOADED,
            export_id=export_id,
            actor=actor,
            camera_id=job.camera_id,
            recipient=job.request.recipient,
            detail={
                "artifact": artifact,
                "bytes": size,
                "sha256": digest,
                "client": _clip(client),
                "source": job.source,
            },
        )
        return Download(f, size, digest, path.name)

    # ------------------------------------------------------------ expiry

    def expire_due(self) -> list[str]:
        """Deletes every finished export past its expiry; returns their ids."""
        now = self.clock()
        with self._cond:
            due = [
                j
                for j in self._jobs.values()
                if j.state in (ExportState.DONE, ExportState.IN_REVIEW) and j.expires_at <= now
            ]
        for job in due:
            deleted: list[dict[str, Any]] = []
            for p in (job.video_path, job.manifest_path):
                if p and Path(p).exists():
                    Path(p).unlink()
                    deleted.append({"file": Path(p).name})
            if self.review_dir(job.id).exists():
                shutil.rmtree(self.review_dir(job.id), ignore_errors=True)
                deleted.append({"file": self.review_dir(job.id).name})
            self.ledger.append(
                Event.EXPIRED,
                export_id=job.id,
                actor="service",
                camera_id=job.camera_id,
                recipient=job.request.recipient,
                detail={"expires_at": job.expires_at.isoformat()},
            )
            self.ledger.append(
                Event.DELETED,
                export_id=job.id,
                actor="service",
                camera_id=job.camera_id,
                recipient=job.request.recipient,
                detail={"files": deleted, "output_sha256": job.output_sha256},
            )
            self._update(job, state=ExportState.EXPIRED, video_path="", manifest_path="")
            log.info("export %s expired and deleted", job.id)
        return [j.id for j in due]

    def _expire_periodically(self) -> None:
        while not self._closed.is_set():
            try:
                self.expire_due()
            except Exception:
                log.exception("expiring exports failed")
            self._closed.wait(self.cfg.expiry_period_s)

    # ------------------------------------------------------------ running jobs

    def _build_detector(self, profile: str) -> Detector:
        return ProfileDetector(
            profile,
            self.config.detect.profiles[profile],
            self.config.models.dir,
            self.config.detect.threads,
            self.config.detect.nice,
        )

    def _worker(self) -> None:
        while True:
            export_id = self._queue.get()
            if export_id is None or self._closed.is_set():
                return
            try:
                self._run(export_id)
            except Exception as e:  # noqa: BLE001 - a job fails, the worker carries on
                self._fail(export_id, e)

    def _run(self, export_id: str) -> None:
        """One step of an export: plan it (then review or render), or render an approved one."""
        with self._cond:
            job = self._jobs[export_id]
            selection = self._selections.pop(export_id, None)
        if selection is None:  # an approved export, or one recovered after a restart
            selection = self._select(job.request)
        if job.state is ExportState.APPROVED:
            planned = bundle.load(self.review_dir(job.id))
            self._render(job, selection, planned, self.reviews.load(job.id))
            return
        self._update(job, state=ExportState.RUNNING)
        planned = self._plan(job, selection)
        if not job.review_required:
            self._render(job, selection, planned, None)
            return
        folder = self.review_dir(job.id)
        try:
            bundle.save(folder, planned)
            proxy.build(
                selection.path,
                selection.start_us,
                selection.end_us,
                folder,
                self.cfg.review.proxy_width,
                self.cfg.review.proxy_quality,
                len(planned.found),
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.ledger.append(
            Event.PLANNED,
            export_id=job.id,
            actor="service",
            camera_id=job.camera_id,
            recipient=job.request.recipient,
            detail={
                "source_sha256": planned.source_sha256,
                "frames": len(planned.found),
                "tracks": len(planned.tracks),
                "fully_masked_frames": len(planned.found.failed),
            },
        )
        self._update(job, state=ExportState.IN_REVIEW)
        log.info("export %s planned: %d tracks, waiting for review", job.id, len(planned.tracks))

    def _plan(self, job: ExportJob, selection: Selection) -> bundle.Bundle:
        """Cut, detect per segment, track once: everything the masks are planned from."""
        self.backend.check()
        source_sha = manifest.sha256_file(selection.path)
        cuts = self._cuts(selection)
        self._update(
            job,
            frames_total=sum(len(c.pts) for c in cuts),
            segments_total=len(cuts),
            quiet=True,
        )
        run = self._segment_run(job)
        found, detectors = run.detect(job.id, selection, cuts)
        params = self._tracker_params()
        objects = self._objects()
        tracked = (
            track(found, params, lookahead=True)
            if objects is None
            else plan_objects(found.detections, found.looks, found.t_us, objects, params)
        )
        return bundle.Bundle(
            found, tracked, detectors, bundle.summarize(found, tracked), source_sha
        )

    def _render(
        self,
        job: ExportJob,
        selection: Selection,
        planned: bundle.Bundle,
        review: Review | None,
    ) -> None:
        """Masks per plan (and review), encode per segment, join, sign; DONE."""
        resolved = self.router.by_name(job.policy, job.camera_id)
        video = self.output_dir / f"{job.id}.mp4"
        doc_path = self.output_dir / f"{job.id}.manifest.json"
        partial_video = video.with_name(video.name + _PARTIAL)
        partial_doc = doc_path.with_name(doc_path.name + _PARTIAL)
        scratch = self._scratch(job.id)
        found = planned.found
        try:
            self.backend.check()
            source_sha = manifest.sha256_file(selection.path)
            if source_sha != planned.source_sha256:
                raise FailedPrecondition(
                    f"the recording {job.source} changed since the export was planned "
                    f"(sha256 {planned.source_sha256[:12]}… then, {source_sha[:12]}… now)"
                )
            cuts = self._cuts(selection)
            tracked, shown = (
                apply.reviewed(planned.tracked, review)
                if review is not None
                else (planned.tracked, None)
            )
            plan = plan_masks(
                found,
                tracked,
                resolved.policy,
                resolved.zones,
                job.request.subject,
                self.cfg.subject_overlap,
                shown=shown,
            )
            self._progress(job, segments_planned=len(cuts))
            mark = mark_text(job.id, job.request.recipient)
            result = self._segment_run(job).encode(
                job.id, mark, selection, cuts, found, plan, resolved, partial_video, scratch
            )
            output_sha = manifest.sha256_file(partial_video)
            body = self._manifest(
                job,
                selection,
                source_sha,
                output_sha,
                found,
                plan,
                planned.detectors,
                resolved.name,
                resolved.policy.model_dump(mode="json"),
                self._tracker_params(),
                result,
                cuts,
            )
            body["review"] = self._review_doc(job, review)
            manifest.write(manifest.sign(body, self.key), partial_doc)
            os.replace(partial_video, video)
            os.replace(partial_doc, doc_path)
        except BaseException:
            for p in (partial_video, partial_doc, video, doc_path):
                p.unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        # on the ledger before the job says DONE: whoever sees DONE finds the row
        self.ledger.append(
            Event.COMPLETED,
            export_id=job.id,
            actor="service",
            camera_id=job.camera_id,
            recipient=job.request.recipient,
            detail={
                "source": job.source,
                "source_sha256": source_sha,
                "output_sha256": output_sha,
                "manifest_sha256": manifest.sha256_file(doc_path),
                "frames": result.frames,
                "fully_masked_frames": result.fully_masked,
                "subject_tracks": plan.subject_tracks,
                "reviewed": review is not None,
                # what the register (redactor.ledger.register) shows, from this row alone
                "video": video.name,
                "requested_by": job.requested_by,
                "approved_by": job.approved_by,
                "officer": job.request.officer,
                "purpose": job.request.purpose,
                "legal_basis": job.request.legal_basis,
                "period": _period(job.request),
                "subject_access": job.request.subject is not None,
                "case_id": job.request.case_id,
            },
        )
        # the proxy holds unmasked pictures: it goes when the review is over
        shutil.rmtree(self.review_dir(job.id), ignore_errors=True)
        self._update(
            job,
            state=ExportState.DONE,
            output_sha256=output_sha,
            video_path=str(video),
            manifest_path=str(doc_path),
            frames_done=result.frames,
        )
        log.info(
            "export %s done on %s: %d frames in %d segments (detect %.1fs, encode %.1fs)",
            job.id,
            self.backend.name,
            result.frames,
            len(cuts),
            found.seconds,
            result.seconds,
        )

    def _review_doc(self, job: ExportJob, review: Review | None) -> dict[str, Any]:
        """The manifest's account of the human review (or that there was none)."""
        if review is None:
            return {"required": False, "reviewed": False, "released_unreviewed": True}
        return {
            "required": True,
            "reviewed": True,
            "released_unreviewed": False,
            "version": review.version,
            "approved_by": job.approved_by,
            "reviewers": review.reviewers,
            "decisions": {
                str(tid): {"decision": st.decision.name, "reason": st.reason, "by": st.by}
                for tid, st in sorted(review.tracks.items())
                if st.version > 0
            },
            "objects": [o.to_json() | {"boxes": len(o.boxes)} for o in review.objects.values()],
            "edits": [e.to_json() for e in review.edits],
        }

    def _cuts(self, selection: Selection) -> list[Segment]:
        return segments.cut(
            selection.path,
            self.cfg.segment_s,
            selection.start_us,
            selection.end_us,
            preroll_s=self.cfg.fast.preroll_s if self.cfg.plan == "fast" else 0.0,
        )

    def _segment_run(self, job: ExportJob) -> SegmentRun:
        return SegmentRun(
            self.backend,
            self.config,
            self.profile,
            self._closed,
            partial(self._progress, job),
            partial(self._ticker, job),
        )

    def _objects(self) -> ObjectsConfig | None:
        """How masks are planned per object, or None for the exhaustive plan's held masks."""
        if self.cfg.plan == "fast":
            return self.cfg.fast
        return self.cfg.exhaustive if self.cfg.exhaustive.masks == "objects" else None

    def _tracker_params(self) -> TrackerParams:
        objects = self._objects()
        if objects is not None:
            return TrackerParams(hold_s=objects.max_gap_s, centre_gate=objects.link_gate)
        return TrackerParams(hold_s=self.cfg.lookahead_s)

    def review_dir(self, export_id: str) -> Path:
        """The plan and proxy of an export while it is reviewed (redactor.review)."""
        return self.output_dir / f"{export_id}.review"

    def _scratch(self, export_id: str) -> Path:
        """The encoded segments of a running export, deleted whatever its end."""
        return self.output_dir / f"{export_id}.segments{_PARTIAL}"

    def _manifest(
        self,
        job: ExportJob,
        selection: Selection,
        source_sha: str,
        output_sha: str,
        found: DetectPass,
        plan: Plan,
        detectors: list[dict[str, str]],
        policy_name: str,
        policy: dict[str, Any],
        params: TrackerParams,
        result: EncodeResult,
        cuts: list[Segment],
    ) -> dict[str, Any]:
        info = selection.info
        return {
            "format": manifest.FORMAT,
            "export_id": job.id,
            "created_at": job.created_at.isoformat(),
            "expires_at": job.expires_at.isoformat(),
            "requested_by": job.requested_by,
            "request": job.request.to_json(),
            "sources": [
                {
                    "path": selection.relative,
                    "sha256": source_sha,
                    "camera_id": selection.camera_id,
                    "recording_start": selection.recording_start.isoformat()
                    if selection.recording_start
                    else None,
                    "start_us": selection.start_us,
                    "end_us": selection.end_us,
                }
            ],
            "output": {
                "file": f"{job.id}.mp4",
                "sha256": output_sha,
                "container": "mp4",
                "codec": "h264",
                "pix_fmt": "yuv420p",
                "audio": False,
                "width": found.width + found.width % 2,
                "height": found.height + found.height % 2,
                "frame_count": result.frames,
                "time_base": str(info.time_base),
                "frame_rate": str(info.rate),
                "first_pts": found.pts[0],
                "last_pts": found.pts[-1],
                "mark": mark_text(job.id, job.request.recipient),
            },
            "policy": {"name": policy_name, **policy},
            "detection": {
                "profile": self.profile,
                "detectors": detectors,
                "seconds": round(found.seconds, 3),
            },
            # cut at keyframes; encoded apart and joined without re-encoding
            "segments": {
                "min_s": self.cfg.segment_s,
                "first_frames": [c.first for c in cuts],
            },
            "plan": self._plan_doc(found, params),
            "subject": None
            if job.request.subject is None
            else {"track_ids": plan.subject_tracks, "visible_frames": plan.subject_frames},
            "frames": {
                "count": result.frames,
                "fully_masked": [
                    {"frame": i, "pts": found.pts[i], "reason": r}
                    for i, r in sorted(found.failed.items())
                ],
            },
            # per frame: [x0, y0, x1, y1, label, reason] (px, redactor.v1 Label / MaskReason)
            "masks": [
                [
                    [round(float(v), 1) for v in b] + [int(lab), int(r)]
                    for b, lab, r in zip(m.boxes, m.labels, m.reasons, strict=True)
                ]
                for m in plan.masks
            ],
        }

    def _plan_doc(self, found: DetectPass, params: TrackerParams) -> dict[str, Any]:
        """How the masks were planned, for the manifest."""
        objects = self._objects()
        if objects is None:  # the exhaustive plan's held masks
            return {
                "name": "exhaustive",
                "method": "redactor.track.track_clip (forward + backward)",
                "masks": "held",
                "hold_s": params.hold_s,
            }
        if self.cfg.plan == "exhaustive":
            return {
                "name": "exhaustive",
                "method": "redactor.export.objects (per object)",
                **objects.model_dump(mode="json"),
            }
        looks = np.bincount(np.asarray(found.looks, np.int64), minlength=3)
        return {
            "name": "fast",
            "method": "redactor.export.fast + redactor.export.objects (per object)",
            **self.cfg.fast.model_dump(mode="json"),
            "frames_swept": int(looks[LOOK_FULL]),
            "frames_regions": int(looks[LOOK_REGIONS]),
        }

    def _fail(self, export_id: str, e: BaseException) -> None:
        log.warning("export %s failed: %s", export_id, e, exc_info=not isinstance(e, RedactorError))
        with self._cond:
            job = self._jobs.get(export_id)
            self._selections.pop(export_id, None)
        if job is None:
            return
        shutil.rmtree(self.review_dir(export_id), ignore_errors=True)
        reason = (
            str(e) if isinstance(e, RedactorError) else f"internal error: {type(e).__name__}: {e}"
        )
        self.ledger.append(
            Event.FAILED,
            export_id=export_id,
            actor="service",
            camera_id=job.camera_id,
            recipient=job.request.recipient,
            detail={"reason": reason},
        )
        self._update(job, state=ExportState.FAILED, error=reason)

    def _progress(
        self, job: ExportJob, at_least: dict[str, int] | None = None, **counts: int
    ) -> None:
        """Progress of a step; where the service is stopping, ends the export here.

        `at_least` raises frame counters that per-frame ticks may have taken further.
        """
        if self._closed.is_set():
            raise FailedPrecondition("the service stopped during the export")
        with self._cond:
            for k, v in (at_least or {}).items():
                counts[k] = max(v, getattr(job, k))
            self._update(job, quiet=True, **counts)

    def _ticker(self, job: ExportJob, counter: str) -> Callable[[], None]:
        """Adds one to a job's frame counter (from the backend's threads, after each frame)."""

        def tick() -> None:
            with self._cond:
                setattr(job, counter, getattr(job, counter) + 1)
                job.version += 1
                self._cond.notify_all()

        return tick

    def _update(self, job: ExportJob, quiet: bool = False, **changes: Any) -> None:
        """Changes a job, wakes its watchers; persists unless `quiet` (progress only)."""
        with self._cond:
            for k, v in changes.items():
                setattr(job, k, v)
            job.version += 1
            if not quiet:  # under the lock: saves land in the order the changes were made
                self.store.save(job)
            self._cond.notify_all()

    def _recover(self) -> None:
        """Loads jobs of earlier runs; those cut off mid-way are failed and their files deleted."""
        for job in self.store.load():
            self._jobs[job.id] = job
            if job.state is ExportState.APPROVED:  # approved: render (again) from its plan
                shutil.rmtree(self._scratch(job.id), ignore_errors=True)
                self._queue.put(job.id)
                continue
            if job.state in (ExportState.QUEUED, ExportState.RUNNING):
                for suffix in (".mp4", ".manifest.json"):
                    for p in (
                        self.output_dir / f"{job.id}{suffix}",
                        self.output_dir / f"{job.id}{suffix}{_PARTIAL}",
                    ):
                        p.unlink(missing_ok=True)
                shutil.rmtree(self._scratch(job.id), ignore_errors=True)
                self._fail(
                    job.id,
                    FailedPrecondition(
                        f"the service stopped while the export was {job.state.name.lower()}"
                    ),
                )

    # ------------------------------------------------------------ shutdown

    def close(self) -> None:
        """Stops workers and the expiry thread; a running export stops at its next frame and fails."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._cond:
            self._cond.notify_all()
        for _ in range(self.cfg.workers):
            self._queue.put(None)
        for t in self._threads:
            t.join()
        self.backend.close()
        self.store.close()
        self.reviews.close()
        self.ledger.close()


def _clip(text: str) -> str:
    """A caller's string as a ledger column: cut where it is longer than any valid value."""
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + "…"


def _period(request: ExportRequest) -> list[str]:
    """The footage's time range as asked ([] where a whole recording file was named)."""
    if request.start is None or request.end is None:
        return []
    return [request.start.isoformat(), request.end.isoformat()]


def _estimate_frames(selection: Selection) -> int:
    info = selection.info
    if selection.start_us is None and selection.end_us is None and info.frames:
        return info.frames
    start = selection.start_us or 0
    end = selection.end_us if selection.end_us is not None else info.duration_us
    return max(0, round((end - start) / 1e6 * float(info.rate)))
