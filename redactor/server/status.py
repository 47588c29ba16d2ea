"""Maps the error family to gRPC status codes, once, for every servicer."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar, cast

import grpc

from redactor import errors

log = logging.getLogger(__name__)

CODES: tuple[tuple[type[errors.RedactorError], grpc.StatusCode], ...] = (
    (errors.InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PolicyDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.Conflict, grpc.StatusCode.ABORTED),
    (errors.DetectorUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.ClusterUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.Draining, grpc.StatusCode.UNAVAILABLE),
)


def code_for(exc: BaseException) -> grpc.StatusCode:
    for cls, code in CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    code = code_for(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.exception("internal error", exc_info=exc)
        context.abort(code, f"internal error: {type(exc).__name__}")
    context.abort(code, str(exc))
    raise AssertionError("unreachable")  # context.abort raises


F = TypeVar("F", bound=Callable[..., Any])


def unary(fn: F) -> F:
    """Decorates a unary servicer method: RedactorError → its status code."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(self, request, context)
        except errors.RedactorError as e:
            abort(context, e)
        except Exception as e:  # noqa: BLE001 - anything else is INTERNAL, logged
            if isinstance(e, grpc.RpcError) or context.code() is not None:
                raise  # already aborted
            abort(context, e)

    return cast(F, wrapper)


def streaming(fn: F) -> F:
    """Decorates a response-streaming servicer method the same way."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from fn(self, request, context)
        except errors.RedactorError as e:
            abort(context, e)
        except Exception as e:  # noqa: BLE001
            if isinstance(e, grpc.RpcError) or context.code() is not None:
                raise
            abort(context, e)

    return cast(F, wrapper)
