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

class ExportArtifact(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_ARTIFACT_UNSPECIFIED: _ClassVar[ExportArtifact]
    EXPORT_ARTIFACT_VIDEO: _ClassVar[ExportArtifact]
    EXPORT_ARTIFACT_MANIFEST: _ClassVar[ExportArtifact]
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
EXPORT_ARTIFACT_UNSPECIFIED: ExportArtifact
EXPORT_ARTIFACT_VIDEO: ExportArtifact
EXPORT_ARTIFACT_MANIFEST: ExportArtifact

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
    __slots__ = ("stream_id", "policy")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    policy: str
    def __init__(self, stream_id: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

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

class StreamResponse(_message.Message):
    __slots__ = ("accepted", "frame")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    accepted: StreamAccepted
    frame: RedactedFrame
    def __init__(self, accepted: _Optional[_Union[StreamAccepted, _Mapping]] = ..., frame: _Optional[_Union[RedactedFrame, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("id", "state", "progress", "frames_done", "frames_total", "error", "request", "created_at", "expires_at", "output_sha256", "requested_by", "frames_detected", "segments_total", "segments_detected", "segments_planned", "segments_encoded")
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
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[ExportState, str]] = ..., progress: _Optional[float] = ..., frames_done: _Optional[int] = ..., frames_total: _Optional[int] = ..., error: _Optional[str] = ..., request: _Optional[_Union[CreateExportRequest, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., output_sha256: _Optional[str] = ..., requested_by: _Optional[str] = ..., frames_detected: _Optional[int] = ..., segments_total: _Optional[int] = ..., segments_detected: _Optional[int] = ..., segments_planned: _Optional[int] = ..., segments_encoded: _Optional[int] = ...) -> None: ...

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
