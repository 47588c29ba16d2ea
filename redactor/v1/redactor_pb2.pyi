import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PixelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PIXEL_FORMAT_UNSPECIFIED: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BGR24: _ClassVar[PixelFormat]
    PIXEL_FORMAT_I420: _ClassVar[PixelFormat]
    PIXEL_FORMAT_NV12: _ClassVar[PixelFormat]
    PIXEL_FORMAT_JPEG: _ClassVar[PixelFormat]
    PIXEL_FORMAT_PNG: _ClassVar[PixelFormat]
    PIXEL_FORMAT_H264: _ClassVar[PixelFormat]

class Label(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LABEL_UNSPECIFIED: _ClassVar[Label]
    LABEL_FACE: _ClassVar[Label]
    LABEL_PLATE: _ClassVar[Label]
    LABEL_PERSON: _ClassVar[Label]

class MaskReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MASK_REASON_UNSPECIFIED: _ClassVar[MaskReason]
    MASK_REASON_DETECTED: _ClassVar[MaskReason]
    MASK_REASON_TRACKED: _ClassVar[MaskReason]
    MASK_REASON_ZONE: _ClassVar[MaskReason]
    MASK_REASON_LOOKAHEAD: _ClassVar[MaskReason]
    MASK_REASON_MOTION: _ClassVar[MaskReason]
    MASK_REASON_STILL: _ClassVar[MaskReason]
    MASK_REASON_REVIEWER: _ClassVar[MaskReason]
    MASK_REASON_START: _ClassVar[MaskReason]

class FrameStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_STATUS_UNSPECIFIED: _ClassVar[FrameStatus]
    FRAME_STATUS_REDACTED: _ClassVar[FrameStatus]
    FRAME_STATUS_FULLY_MASKED: _ClassVar[FrameStatus]
    FRAME_STATUS_DROPPED: _ClassVar[FrameStatus]

class ExportState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_STATE_UNSPECIFIED: _ClassVar[ExportState]
    EXPORT_STATE_QUEUED: _ClassVar[ExportState]
    EXPORT_STATE_RUNNING: _ClassVar[ExportState]
    EXPORT_STATE_DONE: _ClassVar[ExportState]
    EXPORT_STATE_FAILED: _ClassVar[ExportState]
    EXPORT_STATE_EXPIRED: _ClassVar[ExportState]
    EXPORT_STATE_IN_REVIEW: _ClassVar[ExportState]
    EXPORT_STATE_APPROVED: _ClassVar[ExportState]
    EXPORT_STATE_REJECTED: _ClassVar[ExportState]

class ExportArtifact(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_ARTIFACT_UNSPECIFIED: _ClassVar[ExportArtifact]
    EXPORT_ARTIFACT_VIDEO: _ClassVar[ExportArtifact]
    EXPORT_ARTIFACT_MANIFEST: _ClassVar[ExportArtifact]

class TrackDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRACK_DECISION_UNSPECIFIED: _ClassVar[TrackDecision]
    TRACK_DECISION_MASK: _ClassVar[TrackDecision]
    TRACK_DECISION_VISIBLE: _ClassVar[TrackDecision]
    TRACK_DECISION_FALSE_POSITIVE: _ClassVar[TrackDecision]
PIXEL_FORMAT_UNSPECIFIED: PixelFormat
PIXEL_FORMAT_BGR24: PixelFormat
PIXEL_FORMAT_I420: PixelFormat
PIXEL_FORMAT_NV12: PixelFormat
PIXEL_FORMAT_JPEG: PixelFormat
PIXEL_FORMAT_PNG: PixelFormat
PIXEL_FORMAT_H264: PixelFormat
LABEL_UNSPECIFIED: Label
LABEL_FACE: Label
LABEL_PLATE: Label
LABEL_PERSON: Label
MASK_REASON_UNSPECIFIED: MaskReason
MASK_REASON_DETECTED: MaskReason
MASK_REASON_TRACKED: MaskReason
MASK_REASON_ZONE: MaskReason
MASK_REASON_LOOKAHEAD: MaskReason
MASK_REASON_MOTION: MaskReason
MASK_REASON_STILL: MaskReason
MASK_REASON_REVIEWER: MaskReason
MASK_REASON_START: MaskReason
FRAME_STATUS_UNSPECIFIED: FrameStatus
FRAME_STATUS_REDACTED: FrameStatus
FRAME_STATUS_FULLY_MASKED: FrameStatus
FRAME_STATUS_DROPPED: FrameStatus
EXPORT_STATE_UNSPECIFIED: ExportState
EXPORT_STATE_QUEUED: ExportState
EXPORT_STATE_RUNNING: ExportState
EXPORT_STATE_DONE: ExportState
EXPORT_STATE_FAILED: ExportState
EXPORT_STATE_EXPIRED: ExportState
EXPORT_STATE_IN_REVIEW: ExportState
EXPORT_STATE_APPROVED: ExportState
EXPORT_STATE_REJECTED: ExportState
EXPORT_ARTIFACT_UNSPECIFIED: ExportArtifact
EXPORT_ARTIFACT_VIDEO: ExportArtifact
EXPORT_ARTIFACT_MANIFEST: ExportArtifact
TRACK_DECISION_UNSPECIFIED: TrackDecision
TRACK_DECISION_MASK: TrackDecision
TRACK_DECISION_VISIBLE: TrackDecision
TRACK_DECISION_FALSE_POSITIVE: TrackDecision

class Image(_message.Message):
    __slots__ = ("format", "width", "height", "data")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    format: PixelFormat
    width: int
    height: int
    data: bytes
    def __init__(self, format: _Optional[_Union[PixelFormat, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("x0", "y0", "x1", "y1")
    X0_FIELD_NUMBER: _ClassVar[int]
    Y0_FIELD_NUMBER: _ClassVar[int]
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    x0: float
    y0: float
    x1: float
    y1: float
    def __init__(self, x0: _Optional[float] = ..., y0: _Optional[float] = ..., x1: _Optional[float] = ..., y1: _Optional[float] = ...) -> None: ...

class Detection(_message.Message):
    __slots__ = ("box", "score", "label", "track_id")
    BOX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    box: Box
    score: float
    label: Label
    track_id: int
    def __init__(self, box: _Optional[_Union[Box, _Mapping]] = ..., score: _Optional[float] = ..., label: _Optional[_Union[Label, str]] = ..., track_id: _Optional[int] = ...) -> None: ...

class Mask(_message.Message):
    __slots__ = ("box", "label", "reason", "ellipse")
    BOX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ELLIPSE_FIELD_NUMBER: _ClassVar[int]
    box: Box
    label: Label
    reason: MaskReason
    ellipse: bool
    def __init__(self, box: _Optional[_Union[Box, _Mapping]] = ..., label: _Optional[_Union[Label, str]] = ..., reason: _Optional[_Union[MaskReason, str]] = ..., ellipse: _Optional[bool] = ...) -> None: ...

class RedactImageRequest(_message.Message):
    __slots__ = ("image", "policy")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    image: Image
    policy: str
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., policy: _Optional[str] = ...) -> None: ...

class RedactImageResponse(_message.Message):
    __slots__ = ("image", "detections", "masks", "status", "status_reason", "service_ms")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    MASKS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    SERVICE_MS_FIELD_NUMBER: _ClassVar[int]
    image: Image
    detections: _containers.RepeatedCompositeFieldContainer[Detection]
    masks: _containers.RepeatedCompositeFieldContainer[Mask]
    status: FrameStatus
    status_reason: str
    service_ms: float
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., detections: _Optional[_Iterable[_Union[Detection, _Mapping]]] = ..., masks: _Optional[_Iterable[_Union[Mask, _Mapping]]] = ..., status: _Optional[_Union[FrameStatus, str]] = ..., status_reason: _Optional[str] = ..., service_ms: _Optional[float] = ...) -> None: ...

class StreamHeader(_message.Message):
    __slots__ = ("camera_id", "recipient", "service", "format", "width", "height", "fps", "latency_budget_ms")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_BUDGET_MS_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    recipient: str
    service: str
    format: PixelFormat
    width: int
    height: int
    fps: float
    latency_budget_ms: int
    def __init__(self, camera_id: _Optional[str] = ..., recipient: _Optional[str] = ..., service: _Optional[str] = ..., format: _Optional[_Union[PixelFormat, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[float] = ..., latency_budget_ms: _Optional[int] = ...) -> None: ...

class StreamFrame(_message.Message):
    __slots__ = ("seq", "timestamp_us", "data")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    seq: int
    timestamp_us: int
    data: bytes
    def __init__(self, seq: _Optional[int] = ..., timestamp_us: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class StreamRequest(_message.Message):
    __slots__ = ("header", "frame")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    header: StreamHeader
    frame: StreamFrame
    def __init__(self, header: _Optional[_Union[StreamHeader, _Mapping]] = ..., frame: _Optional[_Union[StreamFrame, _Mapping]] = ...) -> None: ...

class StreamAccepted(_message.Message):
    __slots__ = ("stream_id", "policy", "server")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    policy: str
    server: str
    def __init__(self, stream_id: _Optional[str] = ..., policy: _Optional[str] = ..., server: _Optional[str] = ...) -> None: ...

class RedactedFrame(_message.Message):
    __slots__ = ("seq", "timestamp_us", "status", "status_reason", "data", "width", "height", "detections", "masks", "service_ms")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    MASKS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_MS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    timestamp_us: int
    status: FrameStatus
    status_reason: str
    data: bytes
    width: int
    height: int
    detections: _containers.RepeatedCompositeFieldContainer[Detection]
    masks: _containers.RepeatedCompositeFieldContainer[Mask]
    service_ms: float
    def __init__(self, seq: _Optional[int] = ..., timestamp_us: _Optional[int] = ..., status: _Optional[_Union[FrameStatus, str]] = ..., status_reason: _Optional[str] = ..., data: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., detections: _Optional[_Iterable[_Union[Detection, _Mapping]]] = ..., masks: _Optional[_Iterable[_Union[Mask, _Mapping]]] = ..., service_ms: _Optional[float] = ...) -> None: ...

class StreamDraining(_message.Message):
    __slots__ = ("grace_ms", "reason")
    GRACE_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    grace_ms: int
    reason: str
    def __init__(self, grace_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class StreamResponse(_message.Message):
    __slots__ = ("accepted", "frame", "draining")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    accepted: StreamAccepted
    frame: RedactedFrame
    draining: StreamDraining
    def __init__(self, accepted: _Optional[_Union[StreamAccepted, _Mapping]] = ..., frame: _Optional[_Union[RedactedFrame, _Mapping]] = ..., draining: _Optional[_Union[StreamDraining, _Mapping]] = ...) -> None: ...

class SubjectSelector(_message.Message):
    __slots__ = ("timestamp_us", "box")
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    timestamp_us: int
    box: Box
    def __init__(self, timestamp_us: _Optional[int] = ..., box: _Optional[_Union[Box, _Mapping]] = ...) -> None: ...

class CreateExportRequest(_message.Message):
    __slots__ = ("camera_id", "start", "end", "recording", "recipient", "officer", "purpose", "legal_basis", "policy", "expiry_days", "subject")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    OFFICER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_DAYS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    recording: str
    recipient: str
    officer: str
    purpose: str
    legal_basis: str
    policy: str
    expiry_days: int
    subject: SubjectSelector
    def __init__(self, camera_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recording: _Optional[str] = ..., recipient: _Optional[str] = ..., officer: _Optional[str] = ..., purpose: _Optional[str] = ..., legal_basis: _Optional[str] = ..., policy: _Optional[str] = ..., expiry_days: _Optional[int] = ..., subject: _Optional[_Union[SubjectSelector, _Mapping]] = ...) -> None: ...

class ExportJob(_message.Message):
    __slots__ = ("id", "state", "progress", "frames_done", "frames_total", "error", "request", "created_at", "expires_at", "output_sha256", "requested_by", "frames_detected", "segments_total", "segments_detected", "segments_planned", "segments_encoded", "review_required", "approved_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DONE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SHA256_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DETECTED_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_DETECTED_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_PLANNED_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_ENCODED_FIELD_NUMBER: _ClassVar[int]
    REVIEW_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: ExportState
    progress: float
    frames_done: int
    frames_total: int
    error: str
    request: CreateExportRequest
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    output_sha256: str
    requested_by: str
    frames_detected: int
    segments_total: int
    segments_detected: int
    segments_planned: int
    segments_encoded: int
    review_required: bool
    approved_by: str
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[ExportState, str]] = ..., progress: _Optional[float] = ..., frames_done: _Optional[int] = ..., frames_total: _Optional[int] = ..., error: _Optional[str] = ..., request: _Optional[_Union[CreateExportRequest, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., output_sha256: _Optional[str] = ..., requested_by: _Optional[str] = ..., frames_detected: _Optional[int] = ..., segments_total: _Optional[int] = ..., segments_detected: _Optional[int] = ..., segments_planned: _Optional[int] = ..., segments_encoded: _Optional[int] = ..., review_required: _Optional[bool] = ..., approved_by: _Optional[str] = ...) -> None: ...

class GetExportRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class WatchExportRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListExportsRequest(_message.Message):
    __slots__ = ("camera_id", "recipient")
    CAMERA_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    camera_id: str
    recipient: str
    def __init__(self, camera_id: _Optional[str] = ..., recipient: _Optional[str] = ...) -> None: ...

class ListExportsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[ExportJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[ExportJob, _Mapping]]] = ...) -> None: ...

class DownloadExportRequest(_message.Message):
    __slots__ = ("id", "artifact")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    id: str
    artifact: ExportArtifact
    def __init__(self, id: _Optional[str] = ..., artifact: _Optional[_Union[ExportArtifact, str]] = ...) -> None: ...

class DownloadChunk(_message.Message):
    __slots__ = ("data", "offset", "total_size")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    total_size: int
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ..., total_size: _Optional[int] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("user", "password")
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    user: str
    password: str
    def __init__(self, user: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("token", "expires_at", "roles")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    token: str
    expires_at: _timestamp_pb2.Timestamp
    roles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., roles: _Optional[_Iterable[str]] = ...) -> None: ...

class ReviewTrack(_message.Message):
    __slots__ = ("id", "label", "first_frame", "last_frame", "start_us", "end_us", "score", "detected_frames", "decision", "reason", "version", "group", "added", "changed_by", "thumb_frame", "thumbnail")
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    FIRST_FRAME_FIELD_NUMBER: _ClassVar[int]
    LAST_FRAME_FIELD_NUMBER: _ClassVar[int]
    START_US_FIELD_NUMBER: _ClassVar[int]
    END_US_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    THUMB_FRAME_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    id: int
    label: Label
    first_frame: int
    last_frame: int
    start_us: int
    end_us: int
    score: float
    detected_frames: int
    decision: TrackDecision
    reason: str
    version: int
    group: int
    added: bool
    changed_by: str
    thumb_frame: int
    thumbnail: bytes
    def __init__(self, id: _Optional[int] = ..., label: _Optional[_Union[Label, str]] = ..., first_frame: _Optional[int] = ..., last_frame: _Optional[int] = ..., start_us: _Optional[int] = ..., end_us: _Optional[int] = ..., score: _Optional[float] = ..., detected_frames: _Optional[int] = ..., decision: _Optional[_Union[TrackDecision, str]] = ..., reason: _Optional[str] = ..., version: _Optional[int] = ..., group: _Optional[int] = ..., added: _Optional[bool] = ..., changed_by: _Optional[str] = ..., thumb_frame: _Optional[int] = ..., thumbnail: _Optional[bytes] = ...) -> None: ...

class ReviewEdit(_message.Message):
    __slots__ = ("seq", "at", "actor", "action", "track_ids", "reason", "detail_json")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TRACK_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_JSON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    at: _timestamp_pb2.Timestamp
    actor: str
    action: str
    track_ids: _containers.RepeatedScalarFieldContainer[int]
    reason: str
    detail_json: str
    def __init__(self, seq: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., action: _Optional[str] = ..., track_ids: _Optional[_Iterable[int]] = ..., reason: _Optional[str] = ..., detail_json: _Optional[str] = ...) -> None: ...

class ListTracksRequest(_message.Message):
    __slots__ = ("export_id", "thumbnails")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    thumbnails: bool
    def __init__(self, export_id: _Optional[str] = ..., thumbnails: _Optional[bool] = ...) -> None: ...

class ListTracksResponse(_message.Message):
    __slots__ = ("job", "tracks", "review_version", "frames", "width", "height", "fps", "edits", "fully_masked_frames")
    JOB_FIELD_NUMBER: _ClassVar[int]
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    EDITS_FIELD_NUMBER: _ClassVar[int]
    FULLY_MASKED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    job: ExportJob
    tracks: _containers.RepeatedCompositeFieldContainer[ReviewTrack]
    review_version: int
    frames: int
    width: int
    height: int
    fps: float
    edits: _containers.RepeatedCompositeFieldContainer[ReviewEdit]
    fully_masked_frames: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, job: _Optional[_Union[ExportJob, _Mapping]] = ..., tracks: _Optional[_Iterable[_Union[ReviewTrack, _Mapping]]] = ..., review_version: _Optional[int] = ..., frames: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[float] = ..., edits: _Optional[_Iterable[_Union[ReviewEdit, _Mapping]]] = ..., fully_masked_frames: _Optional[_Iterable[int]] = ...) -> None: ...

class GetReviewFrameRequest(_message.Message):
    __slots__ = ("export_id", "frame", "released")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    frame: int
    released: bool
    def __init__(self, export_id: _Optional[str] = ..., frame: _Optional[int] = ..., released: _Optional[bool] = ...) -> None: ...

class ReviewBox(_message.Message):
    __slots__ = ("box", "label", "track_id", "decision", "masked")
    BOX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    MASKED_FIELD_NUMBER: _ClassVar[int]
    box: Box
    label: Label
    track_id: int
    decision: TrackDecision
    masked: bool
    def __init__(self, box: _Optional[_Union[Box, _Mapping]] = ..., label: _Optional[_Union[Label, str]] = ..., track_id: _Optional[int] = ..., decision: _Optional[_Union[TrackDecision, str]] = ..., masked: _Optional[bool] = ...) -> None: ...

class ReviewFrame(_message.Message):
    __slots__ = ("frame", "t_us", "fully_masked", "boxes", "jpeg")
    FRAME_FIELD_NUMBER: _ClassVar[int]
    T_US_FIELD_NUMBER: _ClassVar[int]
    FULLY_MASKED_FIELD_NUMBER: _ClassVar[int]
    BOXES_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    frame: int
    t_us: int
    fully_masked: bool
    boxes: _containers.RepeatedCompositeFieldContainer[ReviewBox]
    jpeg: bytes
    def __init__(self, frame: _Optional[int] = ..., t_us: _Optional[int] = ..., fully_masked: _Optional[bool] = ..., boxes: _Optional[_Iterable[_Union[ReviewBox, _Mapping]]] = ..., jpeg: _Optional[bytes] = ...) -> None: ...

class UpdateTrackRequest(_message.Message):
    __slots__ = ("export_id", "track_id", "decision", "reason", "version")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    track_id: int
    decision: TrackDecision
    reason: str
    version: int
    def __init__(self, export_id: _Optional[str] = ..., track_id: _Optional[int] = ..., decision: _Optional[_Union[TrackDecision, str]] = ..., reason: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class AddObjectRequest(_message.Message):
    __slots__ = ("export_id", "frame", "box", "label", "reason", "object_id", "version")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    frame: int
    box: Box
    label: Label
    reason: str
    object_id: int
    version: int
    def __init__(self, export_id: _Optional[str] = ..., frame: _Optional[int] = ..., box: _Optional[_Union[Box, _Mapping]] = ..., label: _Optional[_Union[Label, str]] = ..., reason: _Optional[str] = ..., object_id: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class GroupTracksRequest(_message.Message):
    __slots__ = ("export_id", "track_ids", "reason", "review_version")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    TRACK_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    track_ids: _containers.RepeatedScalarFieldContainer[int]
    reason: str
    review_version: int
    def __init__(self, export_id: _Optional[str] = ..., track_ids: _Optional[_Iterable[int]] = ..., reason: _Optional[str] = ..., review_version: _Optional[int] = ...) -> None: ...

class GroupTracksResponse(_message.Message):
    __slots__ = ("tracks",)
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    tracks: _containers.RepeatedCompositeFieldContainer[ReviewTrack]
    def __init__(self, tracks: _Optional[_Iterable[_Union[ReviewTrack, _Mapping]]] = ...) -> None: ...

class SignOffRequest(_message.Message):
    __slots__ = ("export_id", "reason", "review_version")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    reason: str
    review_version: int
    def __init__(self, export_id: _Optional[str] = ..., reason: _Optional[str] = ..., review_version: _Optional[int] = ...) -> None: ...

class SignOffResponse(_message.Message):
    __slots__ = ("review_version",)
    REVIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    review_version: int
    def __init__(self, review_version: _Optional[int] = ...) -> None: ...

class ConcludeReviewRequest(_message.Message):
    __slots__ = ("export_id", "review_version", "reason")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    review_version: int
    reason: str
    def __init__(self, export_id: _Optional[str] = ..., review_version: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...
