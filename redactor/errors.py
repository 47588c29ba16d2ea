"""The project's error family. Messages say what was expected and what arrived.

Each error maps to one gRPC status code in redactor/server/status.py; nothing
else in the package knows about gRPC.
"""

from __future__ import annotations


class RedactorError(Exception):
    """Base of every error redactor raises on purpose."""


class InvalidInput(RedactorError):
    """A request's content is malformed (→ INVALID_ARGUMENT)."""


class InvalidFrame(InvalidInput):
    """Pixels that cannot be decoded or do not match their stated size/format."""


class MissingField(InvalidInput):
    """A required field is empty."""

    def __init__(self, field: str, why: str = "") -> None:
        super().__init__(f"{field} is required{': ' + why if why else ''}")
        self.field = field


class LimitExceeded(RedactorError):
    """A configured limit was hit (→ RESOURCE_EXHAUSTED). The message names the limit."""


class Unauthenticated(RedactorError):
    """No valid credentials (→ UNAUTHENTICATED)."""


class PolicyDenied(RedactorError):
    """The caller's role does not allow this (→ PERMISSION_DENIED)."""


class NotFound(RedactorError):
    """A named thing does not exist (→ NOT_FOUND)."""


class FailedPrecondition(RedactorError):
    """The request is valid but the state does not allow it (→ FAILED_PRECONDITION)."""


class AlreadyExists(RedactorError):
    """A thing to create exists already (→ ALREADY_EXISTS)."""


class Conflict(RedactorError):
    """The caller acted on a version of something that has changed since (→ ABORTED): a stale
    page, a second approver. Nothing was changed; the message says what is current."""


class DetectorUnavailable(RedactorError):
    """A detector cannot run (model missing, runtime failed). The pipeline fails closed."""


class InvalidDetections(RedactorError):
    """A detector returned something that is not valid Detections. The pipeline fails closed."""


class ModelMissing(DetectorUnavailable):
    """A model file is not in the cache; the message names the command that fetches it."""


class Draining(RedactorError):
    """The server is draining (SIGTERM): it takes no new stream (→ UNAVAILABLE: retry elsewhere)."""


class ClusterUnavailable(RedactorError):
    """The Dask scheduler or its workers cannot be reached; the message names the address
    (→ UNAVAILABLE)."""


class WorkerMismatch(FailedPrecondition):
    """A worker's package version or model files differ from the coordinator's; the message
    names the worker and the file."""


class ConfigError(RedactorError):
    """The configuration is invalid; the message names the key."""
