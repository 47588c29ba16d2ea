"""The Review service: thin. A console session from the metadata, protobuf ⇄ domain.

Every rule (roles, who may approve, versions, bounds) lives in
redactor.review.service, shared with the web console. Login exchanges a
console user's name and password for a session token; every other call sends it
as `authorization: Bearer <token>`.
"""

from __future__ import annotations

import json
from typing import cast

import grpc

from redactor.errors import InvalidInput, Unauthenticated
from redactor.review.model import Decision
from redactor.review.service import ReviewService, TrackView, View
from redactor.review.users import User
from redactor.server.serde_exports import export_job_to_proto
from redactor.server.status import unary
from redactor.types import Label
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

_BEARER = "Bearer "


class ReviewServicer(pb_grpc.ReviewServicer):
    def __init__(self, review: ReviewService) -> None:
        self.review = review

    def _user(self, context: grpc.ServicerContext) -> User:
        for key, value in context.invocation_metadata() or ():
            if key == "authorization" and isinstance(value, str) and value.startswith(_BEARER):
                return self.review.session(value[len(_BEARER) :]).user
        raise Unauthenticated(
            "expected metadata 'authorization: Bearer <token>' with a session token from "
            "Review.Login; got none"
        )

    @unary
    def Login(self, request: pb.LoginRequest, context: grpc.ServicerContext) -> pb.LoginResponse:
        session = self.review.login(request.user, request.password)
        msg = pb.LoginResponse(token=session.token, roles=sorted(session.user.roles))
        msg.expires_at.FromDatetime(session.expires_at)
        return msg

    @unary
    def ListTracks(
        self, request: pb.ListTracksRequest, context: grpc.ServicerContext
    ) -> pb.ListTracksResponse:
        user = self._user(context)
        opened = self.review.open(user, request.export_id)
        tracks = []
        for t in opened.tracks:
            msg = _track(t)
            if request.thumbnails:
                msg.thumbnail = self.review.thumbnail(
                    user, request.export_id, t.info.id, client=context.peer()
                )
            tracks.append(msg)
        edits = []
        for e in opened.edits:
            m = pb.ReviewEdit(
                seq=e.seq,
                actor=e.actor,
                action=e.action,
                track_ids=list(e.track_ids),
                reason=e.reason,
                detail_json=json.dumps(e.detail, sort_keys=True),
            )
            m.at.FromDatetime(e.at)
            edits.append(m)
        return pb.ListTracksResponse(
            job=export_job_to_proto(opened.job),
            tracks=tracks,
            review_version=opened.version,
            frames=opened.frames,
            width=opened.width,
            height=opened.height,
            fps=opened.fps,
            edits=edits,
            fully_masked_frames=list(opened.fully_masked_frames),
        )

    @unary
    def GetFrame(
        self, request: pb.GetReviewFrameRequest, context: grpc.ServicerContext
    ) -> pb.ReviewFrame:
        user = self._user(context)
        view: View = "released" if request.released else "original"
        jpeg = self.review.frame_jpeg(
            user, request.export_id, request.frame, view, client=context.peer()
        )
        frame = self.review.frame(user, request.export_id, request.frame)
        return pb.ReviewFrame(
            frame=frame.index,
            t_us=frame.t_us,
            fully_masked=frame.fully_masked,
            jpeg=jpeg,
            boxes=[
                pb.ReviewBox(
                    box=pb.Box(x0=m.box[0], y0=m.box[1], x1=m.box[2], y1=m.box[3]),
                    label=cast("pb.Label", m.label),
                    track_id=m.track_id,
                    decision=cast("pb.TrackDecision", int(m.decision)),
                    masked=m.masked,
                )
                for m in frame.masks
            ],
        )

    @unary
    def UpdateTrack(
        self, request: pb.UpdateTrackRequest, context: grpc.ServicerContext
    ) -> pb.ReviewTrack:
        user = self._user(context)
        view = self.review.decide(
            user,
            request.export_id,
            request.track_id,
            _decision(request.decision),
            request.reason,
            request.version,
        )
        return _track(view)

    @unary
    def AddObject(
        self, request: pb.AddObjectRequest, context: grpc.ServicerContext
    ) -> pb.ReviewTrack:
        user = self._user(context)
        if not request.HasField("box"):
            raise InvalidInput("box is required: the object's box on `frame`, full-resolution px")
        b = request.box
        view = self.review.add_object(
            user,
            request.export_id,
            request.frame,
            (b.x0, b.y0, b.x1, b.y1),
            _label(request.label),
            request.reason,
            object_id=request.object_id,
            version=request.version,
        )
        return _track(view)

    @unary
    def GroupTracks(
        self, request: pb.GroupTracksRequest, context: grpc.ServicerContext
    ) -> pb.GroupTracksResponse:
        user = self._user(context)
        views = self.review.group(
            user, request.export_id, list(request.track_ids), request.reason, request.review_version
        )
        return pb.GroupTracksResponse(tracks=[_track(v) for v in views])

    @unary
    def SignOff(
        self, request: pb.SignOffRequest, context: grpc.ServicerContext
    ) -> pb.SignOffResponse:
        user = self._user(context)
        version = self.review.sign_off(
            user, request.export_id, request.review_version, request.reason
        )
        return pb.SignOffResponse(review_version=version)

    @unary
    def Approve(
        self, request: pb.ConcludeReviewRequest, context: grpc.ServicerContext
    ) -> pb.ExportJob:
        user = self._user(context)
        job = self.review.approve(user, request.export_id, request.review_version, request.reason)
        return export_job_to_proto(job)

    @unary
    def Reject(
        self, request: pb.ConcludeReviewRequest, context: grpc.ServicerContext
    ) -> pb.ExportJob:
        user = self._user(context)
        job = self.review.reject(user, request.export_id, request.review_version, request.reason)
        return export_job_to_proto(job)


def _track(t: TrackView) -> pb.ReviewTrack:
    i = t.info
    return pb.ReviewTrack(
        id=i.id,
        label=cast("pb.Label", i.label),
        first_frame=i.first,
        last_frame=i.last,
        start_us=i.start_us,
        end_us=i.end_us,
        score=i.score,
        detected_frames=i.detected_frames,
        decision=cast("pb.TrackDecision", int(t.decision)),
        reason=t.reason,
        version=t.version,
        group=t.group,
        added=t.added,
        changed_by=t.by,
        thumb_frame=i.thumb_frame,
    )


def _decision(value: int) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise InvalidInput(
            f"decision must be TRACK_DECISION_MASK, _VISIBLE or _FALSE_POSITIVE, got {value}"
        ) from None


def _label(value: int) -> Label:
    try:
        return Label(value)
    except ValueError:
        raise InvalidInput(
            f"label must be LABEL_FACE, LABEL_PLATE or LABEL_PERSON, got {value}"
        ) from None
