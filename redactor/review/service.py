"""The review service layer: every review action of the console and of the gRPC API.

Both front ends hold no rules: they authenticate a session, then call one
method here with the session's User. Each method checks the user's role
(redactor.review.access) before it reads or changes anything, so the web
console and the gRPC API can never disagree.

An export that needs review stops after its plan (IN_REVIEW, see
redactor.export.service): its detections, tracks and a low-resolution proxy
wait in `<output_dir>/<id>.review/`. Reviewers change tracks (mask, leave
visible, false positive), add objects the detector missed by a box that is
followed through the clip, and group tracks as one person; every change is a
row of the review table and of the ledger, and is listed in the signed
manifest. An approver who is neither the requester nor a reviewer approves
the version they saw, and the export is rendered (APPROVED, then DONE).

Fail closed: a frame of the released view is the proxy masked as the export
will be (the same plan, the same kernels); a frame whose detector failed is
masked entirely; anything that goes wrong gives an error and no picture.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from redactor import fields
from redactor.errors import (
    Conflict,
    FailedPrecondition,
    InvalidInput,
    NotFound,
    PolicyDenied,
)
from redactor.export.jobs import ExportJob, ExportRequest, ExportState
from redactor.export.redact import frame_masks, subject_rows
from redactor.export.service import Download, ExportService
from redactor.ledger import Entry, Event
from redactor.ledger.access_log import AccessLog, AccessReport, ViewAction
from redactor.pipeline.masking import CLASS_LABEL, apply_masks
from redactor.review import access, bundle
from redactor.review.apply import reviewed_frame
from redactor.review.bundle import Bundle
from redactor.review.follow import follow
from redactor.review.model import (
    ADDED_BASE,
    AddedObject,
    Decision,
    Edit,
    Review,
    TrackInfo,
    TrackState,
)
from redactor.review.proxy import Proxy
from redactor.review.users import Session, User, UserStore
from redactor.types import Frame, Label, Masks

log = logging.getLogger(__name__)

View = Literal["original", "released"]
MAX_REASON_CHARS = 1024
MIN_BOX_PX = 4  # a reviewer's box smaller than this each way is a slip of the mouse


@dataclass(frozen=True, slots=True)
class TrackView:
    """A track and its current decision, as a reviewer sees it."""

    info: TrackInfo
    decision: Decision
    reason: str
    version: int
    group: int
    added: bool  # drawn by a reviewer
    by: str  # who last changed it

    def to_json(self) -> dict[str, object]:
        return {
            **self.info.to_json(),
            "decision": self.decision.name,
            "reason": self.reason,
            "version": self.version,
            "group": self.group,
            "added": self.added,
            "by": self.by,
        }


@dataclass(frozen=True, slots=True)
class FrameMask:
    """One box on a frame: what it is and whether the release masks it."""

    box: tuple[float, float, float, float]  # full-resolution px
    label: int
    track_id: int  # 0: not on a track (a zone)
    decision: Decision
    masked: bool  # what the release does with it


@dataclass(frozen=True, slots=True)
class FrameView:
    index: int
    t_us: int
    fully_masked: bool  # the detector failed here: the whole frame is masked
    masks: tuple[FrameMask, ...]


@dataclass(frozen=True, slots=True)
class ExportReview:
    """What a review page opens with."""

    job: ExportJob
    width: int  # full resolution
    height: int
    proxy_width: int
    proxy_height: int
    frames: int
    fps: float
    t_us: tuple[int, ...]
    tracks: tuple[TrackView, ...]
    version: int  # of the whole review: approval names the version approved
    edits: tuple[Edit, ...]
    reviewers: tuple[str, ...]  # who changed it: none of them may approve it
    required: bool  # the policy requires review before release
    fully_masked_frames: tuple[int, ...]


@dataclass(slots=True)
class _Loaded:
    """An export's plan and proxy, read once per export while it is reviewed."""

    planned: Bundle
    proxy: Proxy
    scale: float  # proxy px per full-resolution px
    subject: list[frozenset[int]]  # per frame, track ids shown as the request's subject
    infos: dict[int, TrackInfo]  # the plan's tracks by id


class ReviewService:
    """Review actions for a signed-in user; the only way the console and the gRPC API act."""

    def __init__(
        self, exports: ExportService, users: UserStore, access_log: AccessLog | None = None
    ) -> None:
        self.exports = exports
        self.users = users
        # every view of footage pixels is logged (coalesced) on the exports' ledger
        if access_log is None:
            access_log = AccessLog(
                exports.ledger, exports.config.access_log, lambda: exports.clock()
            )
        self.access_log = access_log
        self.cfg = exports.cfg.review
        self._lock = threading.RLock()  # one change at a time: versions are checked under it
        self._loaded: dict[str, _Loaded] = {}

    # ------------------------------------------------------------ sessions

    def login(self, name: str, password: str) -> Session:
        return self.users.login(name, password)

    def session(self, token: str) -> Session:
        return self.users.session(token)

    def logout(self, token: str) -> None:
        self.users.logout(token)

    # ------------------------------------------------------------ exports

    def list_exports(self, user: User) -> list[ExportJob]:
        """Exports the user may see, newest first."""
        access.authorize(user, "list_exports")
        jobs = [j for j in self.exports.list_jobs() if access.visible(user, j.requested_by)]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    def create_export(self, user: User, request: ExportRequest) -> ExportJob:
        try:
            access.authorize(user, "create_export")
        except PolicyDenied as e:
            self.exports.refuse(request, user.name, str(e))
            raise
        return self.exports.create(request, user.name)

    def policies(self, user: User) -> list[str]:
        """The masking policies a request may name (policy.policies), for whoever may ask."""
        access.authorize(user, "create_export")
        return sorted(self.exports.config.policy.policies)

    def job(self, user: User, export_id: str) -> ExportJob:
        job = self.exports.get(export_id)
        access.authorize(user, "view_export", requested_by=job.requested_by)
        return job

    def open(self, user: User, export_id: str) -> ExportReview:
        """The review page's data (IN_REVIEW exports; afterwards their pages show the outcome)."""
        job = self.job(user, export_id)
        with self._lock:
            loaded = self._load(job)
            review = self.exports.reviews.load(export_id)
        found = loaded.planned.found
        t = found.t_us
        return ExportReview(
            job=job,
            width=found.width,
            height=found.height,
            proxy_width=loaded.proxy.width,
            proxy_height=loaded.proxy.height,
            frames=len(found),
            fps=_fps(t),
            t_us=tuple(t),
            tracks=tuple(self._views(loaded, review)),
            version=review.version,
            edits=tuple(review.edits),
            reviewers=tuple(review.reviewers),
            required=job.review_required,
            fully_masked_frames=tuple(sorted(found.failed)),
        )

    def frame(self, user: User, export_id: str, index: int) -> FrameView:
        """A frame's boxes as data (the console draws them on the proxy)."""
        job = self.job(user, export_id)
        with self._lock:
            loaded = self._load(job)
            review = self.exports.reviews.load(export_id, edits=False)
        found = loaded.planned.found
        _check_frame(index, len(found))
        policy = self.exports.router.by_name(job.policy, job.camera_id).policy
        classes = {int(CLASS_LABEL[c]) for c in policy.classes}
        tf = loaded.planned.tracked[index]
        d = tf.detections
        out: list[FrameMask] = []
        rows = [
            # the plan's held boxes may reach past the edge; the masks are clipped there too
            (
                _clip_box(tuple(d.boxes[r]), found.width, found.height),
                int(d.labels[r]),
                int(d.track_ids[r]),
            )
            for r in range(len(d))
        ]
        for obj in review.objects.values():
            drawn = obj.box_at(index)
            if drawn is not None:
                rows.append((drawn, obj.label, obj.id))
        for box, label, tid in rows:
            decision = review.decision(tid)
            shown = decision is Decision.VISIBLE or tid in loaded.subject[index]
            masked = decision is not Decision.FALSE_POSITIVE and not shown and label in classes
            out.append(FrameMask(box, label, tid, decision, masked))
        return FrameView(index, found.t_us[index], index in found.failed, tuple(out))

    def frame_jpeg(
        self, user: User, export_id: str, index: int, view: View, *, client: str = ""
    ) -> bytes:
        """The proxy frame: `original` (reviewers and approvers) or `released` (masked as the
        export will be). Logged in the access log from `client` (the caller's address)."""
        job = self.job(user, export_id)
        if view == "original":
            access.authorize(user, "view_original", requested_by=job.requested_by)
        elif view != "released":
            raise InvalidInput(f"view must be 'original' or 'released', got {view!r}")
        with self._lock:
            loaded = self._load(job)
            review = (
                self.exports.reviews.load(export_id, edits=False) if view == "released" else None
            )
        _check_frame(index, loaded.proxy.frames)
        if review is None:
            data = loaded.proxy.jpeg(index)
        else:
            data = self._released(job, loaded, review, index)
        action: ViewAction = "frame_original" if review is None else "frame_released"
        self._viewed(user, job, action, client, {"frame": index})
        return data

    def thumbnail(self, user: User, export_id: str, track_id: int, *, client: str = "") -> bytes:
        """A track's picture from the original proxy; logged in the access log."""
        job = self.job(user, export_id)
        access.authorize(user, "view_original", requested_by=job.requested_by)
        with self._lock:
            loaded = self._load(job)
            review = self.exports.reviews.load(export_id)
        info = loaded.infos.get(track_id)
        if info is not None:
            frame, box = info.thumb_frame, info.thumb_box
        elif track_id in review.objects:
            obj = review.objects[track_id]
            frame = min(obj.keys)
            box = obj.keys[frame]
        else:
            raise NotFound(f"export {export_id} has no track {track_id}")
        img = loaded.proxy.bgr(frame)
        s = loaded.scale
        x0, y0, x1, y1 = (v * s for v in box)
        grow = 0.3 * max(x1 - x0, y1 - y0) + 4
        h, w = img.shape[:2]
        crop = img[
            max(0, int(y0 - grow)) : min(h, int(y1 + grow)) + 1,
            max(0, int(x0 - grow)) : min(w, int(x1 + grow)) + 1,
        ]
        scale = THUMB_PX / max(crop.shape[:2])
        thumb = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        data = _jpeg(np.asarray(thumb, np.uint8))
        self._viewed(user, job, "thumbnail", client, {"track_id": track_id, "frame": int(frame)})
        return data

    # ------------------------------------------------------------ changes

    def decide(
        self,
        user: User,
        export_id: str,
        track_id: int,
        decision: Decision,
        reason: str,
        version: int,
    ) -> TrackView:
        """Sets a track's decision (and its group's); `version` is the track's as the page saw it."""
        decision = Decision(decision)
        reason = _reason(reason)
        with self._lock:
            job, loaded, review = self._for_change(user, export_id)
            self._known(loaded, review, track_id, export_id)
            st = review.state(track_id)
            _check_version(f"track {track_id}", st.version, version, st.by, st.at)
            members = self._members(review, track_id)
            before = {str(m): review.decision(m).name for m in members}
            for m in members:
                self._set(review, m, user, decision=decision, reason=reason)
            self._commit(
                job,
                review,
                user,
                "decide",
                members,
                reason,
                {"decision": decision.name, "before": before},
            )
            return self._view(loaded, review, track_id)

    def add_object(
        self,
        user: User,
        export_id: str,
        frame: int,
        box: tuple[float, float, float, float],
        label: Label,
        reason: str,
        object_id: int = 0,
        version: int = 0,
    ) -> TrackView:
        """A missed object by one box (full-resolution px) on one frame, followed both ways.

        With `object_id` (and its `version`), a further box corrects that object.
        """
        reason = _reason(reason)
        try:
            label = Label(label)
        except ValueError:
            raise InvalidInput(
                f"label must be one of {', '.join(f'{lab.name}={int(lab)}' for lab in Label)}, "
                f"got {label}"
            ) from None
        with self._lock:
            job, loaded, review = self._for_change(user, export_id)
            found = loaded.planned.found
            _check_frame(frame, len(found))
            box = _check_box(box, found.width, found.height)
            if object_id:
                obj = review.objects.get(object_id)
                if obj is None:
                    raise NotFound(f"export {export_id} has no reviewer-drawn object {object_id}")
                st = review.state(object_id)
                _check_version(f"object {object_id}", st.version, version, st.by, st.at)
                keys = {**obj.keys, frame: box}
                oid, action = object_id, "correct_object"
            else:
                oid = ADDED_BASE + len(review.objects) + 1
                keys = {frame: box}
                action = "add_object"
            obj = self._follow(loaded, oid, int(label), keys)
            review.objects[oid] = obj
            self._set(review, oid, user, reason=reason)
            self._commit(
                job,
                review,
                user,
                action,
                [oid],
                reason,
                {
                    "frame": frame,
                    "box": [round(v, 1) for v in box],
                    "label": label.name,
                    "followed": [obj.first, obj.first + len(obj.boxes) - 1],
                    "lost_frames": int(sum(obj.lost)),
                },
            )
            return self._view(loaded, review, oid)

    def group(
        self, user: User, export_id: str, track_ids: Sequence[int], reason: str, version: int
    ) -> list[TrackView]:
        """Tracks of one person: a decision on one applies to all. `version`: the review's."""
        reason = _reason(reason)
        ids = sorted({int(t) for t in track_ids})
        if len(ids) < 2:
            raise InvalidInput(f"a group needs at least two tracks, got {ids}")
        with self._lock:
            job, loaded, review = self._for_change(user, export_id)
            _check_version("the review", review.version, version, *_last(review))
            for t in ids:
                self._known(loaded, review, t, export_id)
            members = sorted({m for t in ids for m in self._members(review, t)})
            gid = members[0]
            for m in members:
                self._set(review, m, user, group=gid)
            self._commit(job, review, user, "group", members, reason, {"group": gid})
            return [self._view(loaded, review, m) for m in members]

    def sign_off(self, user: User, export_id: str, version: int, reason: str) -> int:
        """A reviewer records that they went through the export (with or without changes);
        returns the review's new version."""
        reason = _reason(reason)
        with self._lock:
            job, _loaded, review = self._for_change(user, export_id)
            _check_version("the review", review.version, version, *_last(review))
            self._commit(job, review, user, "sign_off", [], reason, {})
            return review.version

    def approve(self, user: User, export_id: str, version: int, reason: str = "") -> ExportJob:
        """Approves the review at `version` (what the approver saw) and starts the render."""
        return self._conclude(user, export_id, version, reason, approve=True)

    def reject(self, user: User, export_id: str, version: int, reason: str) -> ExportJob:
        return self._conclude(user, export_id, version, _reason(reason), approve=False)

    # ------------------------------------------------------------ records

    def ledger(self, user: User, export_id: str) -> list[Entry]:
        job = self.job(user, export_id)
        access.authorize(user, "view_ledger", requested_by=job.requested_by)
        return self.exports.ledger.entries(export_id=export_id)

    def download(
        self,
        user: User,
        export_id: str,
        artifact: Literal["video", "manifest"],
        *,
        client: str = "",
    ) -> Download:
        """Opens a finished export's file; the DOWNLOADED row (or the refusal) names `client`."""
        job = self.exports.get(export_id)
        try:
            access.authorize(user, "download", requested_by=job.requested_by)
        except PolicyDenied as e:
            self.exports.refuse_download(export_id, artifact, user.name, str(e), client=client)
            raise
        return self.exports.open_download(export_id, artifact, user.name, client=client)

    # ------------------------------------------------------------ the access log

    def access_report(self, user: User, year: int, month: int) -> AccessReport:
        """The month's access log per account, flagged accounts first (auditors, admins)."""
        access.authorize(user, "review_access")
        return self.access_log.report(year, month)

    def mark_access_reviewed(self, user: User, year: int, month: int, note: str) -> Entry:
        """Records the month's review by `user`; a second review of a month is a Conflict."""
        access.authorize(user, "review_access")
        return self.access_log.mark_reviewed(year, month, user.name, note)

    # ------------------------------------------------------------ inside

    def _viewed(
        self,
        user: User,
        job: ExportJob,
        action: ViewAction,
        client: str,
        detail: dict[str, object],
    ) -> None:
        """Logs pixels about to be handed out; raises (no picture) where it cannot."""
        self.access_log.record(
            user.name,
            action,
            client,
            export_id=job.id,
            camera_id=job.camera_id,
            recipient=job.request.recipient,
            source=job.source,
            detail=detail,
        )

    def _conclude(
        self, user: User, export_id: str, version: int, reason: str, *, approve: bool
    ) -> ExportJob:
        action: access.Action = "approve" if approve else "reject"
        with self._lock:
            job = self.exports.get(export_id)
            review = self.exports.reviews.load(export_id)
            access.authorize(
                user, action, requested_by=job.requested_by, reviewers=review.reviewers
            )
            if job.state is not ExportState.IN_REVIEW:
                by = f" by {job.approved_by}" if job.approved_by else ""
                raise Conflict(f"export {export_id} is {job.state.name}{by}, no longer IN_REVIEW")
            if approve and not review.reviewers:
                raise FailedPrecondition(
                    f"nobody has reviewed export {export_id} yet: a reviewer changes its tracks "
                    "or signs it off before it can be approved"
                )
            _check_version("the review", review.version, version, *_last(review))
            self._commit(job, review, user, action, [], reason, {"version": version})
            if approve:
                return self.exports.mark_approved(export_id, user.name)
            return self.exports.mark_rejected(export_id, user.name, reason)

    def _for_change(self, user: User, export_id: str) -> tuple[ExportJob, _Loaded, Review]:
        job = self.exports.get(export_id)
        access.authorize(user, "review", requested_by=job.requested_by)
        if job.state is not ExportState.IN_REVIEW:
            raise FailedPrecondition(
                f"export {export_id} is {job.state.name}: only an export IN_REVIEW can be changed"
            )
        return job, self._load(job), self.exports.reviews.load(export_id)

    def _load(self, job: ExportJob) -> _Loaded:
        loaded = self._loaded.get(job.id)
        if job.state is not ExportState.IN_REVIEW:
            if loaded is not None:
                self._loaded.pop(job.id)
                loaded.proxy.close()
            raise FailedPrecondition(
                f"export {job.id} is {job.state.name}: its frames are kept only while it is "
                "IN_REVIEW (the proxy is deleted when the review ends)"
            )
        if loaded is not None:
            return loaded
        folder = self.exports.review_dir(job.id)
        planned = bundle.load(folder)
        px = Proxy(folder)
        found = planned.found
        subject: list[frozenset[int]] = [frozenset()] * len(found)
        if job.request.subject is not None:
            _ids, rows = subject_rows(
                found, planned.tracked, job.request.subject, self.exports.cfg.subject_overlap
            )
            subject = [
                frozenset(int(t) for t in tf.detections.track_ids[r])
                for tf, r in zip(planned.tracked, rows, strict=True)
            ]
        loaded = _Loaded(
            planned,
            px,
            px.width / found.width,
            subject,
            {t.id: t for t in planned.tracks},
        )
        self._loaded[job.id] = loaded
        return loaded

    def forget(self, export_id: str) -> None:
        """Drops a cached plan (after the review ended)."""
        with self._lock:
            loaded = self._loaded.pop(export_id, None)
        if loaded is not None:
            loaded.proxy.close()

    def _released(self, job: ExportJob, loaded: _Loaded, review: Review, index: int) -> bytes:
        """The proxy frame masked per plan and review, with the policy's style (fail closed)."""
        found = loaded.planned.found
        resolved = self.exports.router.by_name(job.policy, job.camera_id)
        tf, shown = reviewed_frame(loaded.planned.tracked[index], index, review)
        subj = loaded.subject[index]
        if subj:
            shown = shown | np.isin(tf.detections.track_ids, list(subj))
        masks = frame_masks(found, index, tf, shown, resolved.policy, resolved.zones)
        s = loaded.scale
        img = loaded.proxy.bgr(index)
        h, w = img.shape[:2]
        if masks.full_frame:
            scaled = Masks.everything(w, h, masks.full_frame_reason)
        else:
            scaled = replace(
                masks,
                boxes=(masks.boxes * s).astype(np.float32),
                zones=tuple((z * s).astype(np.int32) for z in masks.zones),
            )
        frame = Frame.from_bgr(img, index, found.t_us[index])
        apply_masks(frame, scaled, resolved.policy)
        return _jpeg(frame.planes[0])

    def _follow(
        self,
        loaded: _Loaded,
        oid: int,
        label: int,
        keys: dict[int, tuple[float, float, float, float]],
    ) -> AddedObject:
        s = loaded.scale
        found = loaded.planned.found
        reach = max(1, round(self.cfg.follow_s * _fps(found.t_us)))
        small = {k: _box4(tuple(v * s for v in b)) for k, b in keys.items()}
        got = follow(loaded.proxy.bgr, len(found), small, reach)
        boxes = [
            _clip_box(tuple(float(v) / s for v in b), found.width, found.height) for b in got.boxes
        ]
        for k, b in keys.items():  # a keyframe is exactly what the reviewer drew
            boxes[k - got.first] = b
        return AddedObject(oid, label, dict(keys), got.first, boxes, [bool(v) for v in got.lost])

    def _members(self, review: Review, track_id: int) -> list[int]:
        g = review.tracks[track_id].group if track_id in review.tracks else 0
        if not g:
            return [track_id]
        return sorted(t for t, st in review.tracks.items() if st.group == g)

    def _set(self, review: Review, track_id: int, user: User, **changes: object) -> None:
        st = review.state(track_id)
        for k, v in changes.items():
            setattr(st, k, v)
        st.version += 1
        st.by = user.name
        st.at = self.exports.clock().isoformat()

    def _commit(
        self,
        job: ExportJob,
        review: Review,
        user: User,
        action: str,
        track_ids: Sequence[int],
        reason: str,
        detail: dict[str, object],
    ) -> None:
        """Stores a change and puts it on the ledger (only changes that happened get a row)."""
        review.version += 1
        edit = Edit(
            seq=len(review.edits) + 1,
            at=self.exports.clock(),
            actor=user.name,
            action=action,
            track_ids=tuple(int(t) for t in track_ids),
            reason=reason,
            detail=dict(detail),
        )
        review.edits.append(edit)
        self.exports.reviews.save(review, edit)
        event = {
            "approve": Event.REVIEW_APPROVED,
            "reject": Event.REVIEW_REJECTED,
        }.get(action, Event.REVIEW_CHANGED)
        self.exports.ledger.append(
            event,
            export_id=job.id,
            actor=user.name,
            camera_id=job.camera_id,
            recipient=job.request.recipient,
            detail={**edit.to_json(), "review_version": review.version},
        )

    def _known(self, loaded: _Loaded, review: Review, track_id: int, export_id: str) -> None:
        if track_id not in loaded.infos and track_id not in review.objects:
            raise NotFound(f"export {export_id} has no track {track_id}")

    def _views(self, loaded: _Loaded, review: Review) -> list[TrackView]:
        ids = [t.id for t in loaded.planned.tracks] + sorted(review.objects)
        return [self._view(loaded, review, t) for t in ids]

    def _view(self, loaded: _Loaded, review: Review, track_id: int) -> TrackView:
        st = review.tracks.get(track_id, TrackState())
        info = loaded.infos.get(track_id)
        if info is None:
            obj = review.objects[track_id]
            t_us = loaded.planned.found.t_us
            last = obj.first + len(obj.boxes) - 1
            key = min(obj.keys)
            info = TrackInfo(
                obj.id,
                obj.label,
                obj.first,
                last,
                t_us[obj.first],
                t_us[last],
                0.0,
                0,
                key,
                obj.keys[key],
            )
        return TrackView(
            info,
            st.decision,
            st.reason,
            st.version,
            st.group,
            track_id >= ADDED_BASE,
            st.by,
        )


THUMB_PX = 96


def _jpeg(img: npt.NDArray[np.uint8]) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise FailedPrecondition("cannot encode the frame as JPEG")
    return buf.tobytes()


def _fps(t_us: Sequence[int]) -> float:
    if len(t_us) > 1 and t_us[-1] > t_us[0]:
        return (len(t_us) - 1) / ((t_us[-1] - t_us[0]) / 1e6)
    return 25.0


def _reason(reason: str) -> str:
    return fields.text(
        "reason", reason, why="every review change says why", max_chars=MAX_REASON_CHARS
    )


def _check_frame(index: int, frames: int) -> None:
    if not 0 <= index < frames:
        raise InvalidInput(f"frame must be in [0, {frames - 1}] (the export's frames), got {index}")


def _check_box(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[float, float, float, float]:
    b = tuple(float(v) for v in box)
    if len(b) != 4 or not all(math.isfinite(v) for v in b):
        raise InvalidInput(f"box must be four finite numbers x0, y0, x1, y1, got {box}")
    x0, y0, x1, y1 = b
    if x1 - x0 < MIN_BOX_PX or y1 - y0 < MIN_BOX_PX:
        raise InvalidInput(
            f"box must be at least {MIN_BOX_PX} px each way with x1 > x0 and y1 > y0, got {b}"
        )
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise InvalidInput(
            f"box {tuple(round(v, 1) for v in b)} lies outside the {width}x{height} frame"
        )
    return (x0, y0, x1, y1)


def _clip_box(b: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    return (
        min(max(float(b[0]), 0.0), float(width)),
        min(max(float(b[1]), 0.0), float(height)),
        min(max(float(b[2]), 0.0), float(width)),
        min(max(float(b[3]), 0.0), float(height)),
    )


def _box4(b: Sequence[float]) -> tuple[float, float, float, float]:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _check_version(what: str, current: int, seen: int, by: str, at: str) -> None:
    if current != seen:
        who = f" (last changed by {by} at {at})" if by else ""
        raise Conflict(
            f"{what} is at version {current}{who}; the page had version {seen}: "
            "nothing was changed, reload and decide again"
        )


def _last(review: Review) -> tuple[str, str]:
    if not review.edits:
        return "", ""
    e = review.edits[-1]
    return e.actor, e.at.isoformat()
