"""One error type and one handler produce the DESIGN.md error body everywhere.

Body: ``{"error": {"code": "...", "message": "...", "details": {...}}}``. Views raise
``ApplicationError`` subclasses (or let DRF raise its own); nothing builds error JSON by hand.
"""

from __future__ import annotations

import sys
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings

from agents.guard import GuardError, GuardUnavailableError
from agents.guard import RateLimitedError as GuardRateLimitedError

logger = structlog.get_logger(__name__)


class ApplicationError(Exception):
    code = "INTERNAL_ERROR"
    status = 500
    default_message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        return {}


class ValidationError(ApplicationError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The request is not valid."

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationError:
        return cls(f"{field}: {message}", details={"fields": {field: [message]}})


class UnauthorizedError(ApplicationError):
    code, status, default_message = "UNAUTHORIZED", 401, "Authentication is required."


class BudgetExceededError(ApplicationError):
    code, status, default_message = "BUDGET_EXCEEDED", 402, "The budget for this is used up."


class ForbiddenError(ApplicationError):
    code, status, default_message = "FORBIDDEN", 403, "You may not do this."


class NotFoundError(ApplicationError):
    code, status, default_message = "NOT_FOUND", 404, "Not found."


class MethodNotAllowedError(ApplicationError):
    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "Method not allowed."

    def headers(self) -> dict[str, str]:
        # A 405 names the methods that are allowed (RFC 9110), as ``details.allowed`` does.
        allowed = self.details.get("allowed")
        return {"Allow": ", ".join(allowed)} if allowed else {}


class ConflictError(ApplicationError):
    code, status, default_message = "CONFLICT", 409, "This conflicts with the current state."


class PayloadTooLargeError(ApplicationError):
    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "The request body is too large."


class UnsupportedMediaTypeError(ApplicationError):
    code, status, default_message = (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "This content type is not supported.",
    )


class ContentRejectedError(ApplicationError):
    """Moderation refused a text before it reached a model: ``details.field`` names it,
    ``details.category`` says why (``backend.moderation``)."""

    code, status, default_message = (
        "CONTENT_REJECTED",
        400,
        "This text was not accepted by content moderation.",
    )


class RetryLaterError(ApplicationError):
    """An error a client should retry after a while: says when, in ``Retry-After`` and in
    ``details.retry_after_s`` (whole seconds, at least 1)."""

    default_retry_after_s: float = 5

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after_s: float | None = None,
        details: dict[str, Any] | None = None,
    ):
        wait = self.default_retry_after_s if retry_after_s is None else retry_after_s
        self.retry_after_s = max(1, int(-(-wait // 1)))
        super().__init__(message, details={**(details or {}), "retry_after_s": self.retry_after_s})

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class RateLimitedError(RetryLaterError):
    code, status, default_message = "RATE_LIMITED", 429, "Too many requests; slow down."
    default_retry_after_s = 1


class InternalError(ApplicationError):
    pass


class UpstreamError(ApplicationError):
    code, status, default_message = "UPSTREAM_ERROR", 502, "An upstream service failed."


class AiServiceUnavailableError(RetryLaterError):
    code, status, default_message = (
        "AI_SERVICE_UNAVAILABLE",
        503,
        "No AI model can be reached right now; try again shortly.",
    )


class UpstreamUnavailableError(RetryLaterError):
    code, status, default_message = (
        "UPSTREAM_UNAVAILABLE",
        503,
        "This data source is temporarily unavailable; try again later.",
    )
    default_retry_after_s = 30


class ModerationUnavailableError(RetryLaterError):
    """The moderation check could not answer in time; the text is refused, not let through
    unchecked (unless ``MODERATION_FAIL_OPEN``)."""

    code, status, default_message = (
        "MODERATION_UNAVAILABLE",
        503,
        "Content moderation is unavailable right now, so nothing was sent; try again shortly.",
    )


class ServiceOverloadedError(RetryLaterError):
    """Shed load: the service itself is out of room (no free database connection in time)."""

    code, status, default_message = (
        "SERVICE_OVERLOADED",
        503,
        "The service is too busy to answer right now; try again shortly.",
    )


class ServiceUnavailableError(RetryLaterError):
    """The database went away under the request (a restart or failover): nothing it was
    writing was committed, so sending it again is safe."""

    code, status, default_message = (
        "SERVICE_UNAVAILABLE",
        503,
        "The service's database is unavailable for a moment; try again shortly.",
    )
    default_retry_after_s = 2


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from (Django re-raises a driver's error as its own)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 4:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _database_unavailable(exc: BaseException) -> bool:
    """The connection to PostgreSQL was lost or refused, as opposed to a query's own error.

    psycopg gives a lost or refused connection no SQLSTATE; a server shutting down or
    starting up says so in class 57 (``AdminShutdown``, ``CrashShutdown``,
    ``CannotConnectNow``); Django says ``InterfaceError`` for a connection already closed.
    """
    try:
        import psycopg
        from psycopg import errors as pg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return False
    from django.db import InterfaceError

    for seen in _causes(exc):
        if isinstance(seen, pg.AdminShutdown | pg.CrashShutdown | pg.CannotConnectNow):
            return True
        if isinstance(seen, psycopg.OperationalError) and seen.sqlstate is None:
            return True
        if isinstance(seen, InterfaceError | psycopg.InterfaceError):
            return True
    return False


def _pool_exhausted(exc: BaseException) -> bool:
    """A database pool that gave no connection in time (psycopg_pool), however wrapped."""
    try:
        from psycopg_pool import PoolTimeout, TooManyRequests
    except ImportError:  # pragma: no cover - SQLite-only installs
        return False
    return any(isinstance(seen, PoolTimeout | TooManyRequests) for seen in _causes(exc))


STATUS_CODES: dict[int, type[ApplicationError]] = {
    cls.status: cls
    for cls in (
        ValidationError,
        UnauthorizedError,
        BudgetExceededError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowedError,
        ConflictError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        RateLimitedError,
        InternalError,
        UpstreamError,
    )
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def from_exception(exc: BaseException) -> ApplicationError | None:
    """Translate any known exception into an ApplicationError; None if it is unexpected."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, GuardError):
        return _from_guard_error(exc)
    if _pool_exhausted(exc):
        return ServiceOverloadedError(details={"reason": "database_pool_exhausted"})
    if _database_unavailable(exc):
        logger.warning("database_unavailable", error=f"{type(exc).__name__}: {exc}")
        return ServiceUnavailableError(details={"reason": "database_unavailable"})
    from backend.youtube import errors as youtube

    if isinstance(exc, youtube.YouTubeError):
        return _from_youtube_error(exc)
    if isinstance(exc, Http404 | drf_exceptions.NotFound):
        return NotFoundError()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLargeError()
    if isinstance(exc, PermissionDenied | drf_exceptions.PermissionDenied):
        return ForbiddenError()
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return UnauthorizedError(str(exc.detail))
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return MethodNotAllowedError(str(exc.detail))
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return UnsupportedMediaTypeError(str(exc.detail))
    if isinstance(exc, drf_exceptions.Throttled):
        return RateLimitedError(retry_after_s=float(getattr(exc, "wait", None) or 1))
    if isinstance(exc, drf_exceptions.ParseError):
        return ValidationError(f"Malformed request body: {exc.detail}", details={"fields": {}})
    if isinstance(exc, drf_exceptions.ValidationError):
        return _from_drf_validation(exc)
    if isinstance(exc, SuspiciousOperation):
        return ValidationError("The request was rejected as malformed.")
    if isinstance(exc, drf_exceptions.APIException):
        cls = STATUS_CODES.get(exc.status_code, InternalError)
        return cls(str(exc.detail))
    return None


def _from_guard_error(exc: GuardError) -> ApplicationError:
    if isinstance(exc, GuardRateLimitedError):
        return RateLimitedError(exc.message, retry_after_s=exc.retry_after_s, details=exc.details)
    if isinstance(exc, GuardUnavailableError):
        # The budget store is down (a Redis restart): worth retrying in a few seconds.
        return AiServiceUnavailableError(exc.message, details=exc.details)
    err = ApplicationError(exc.message, details=exc.details)
    err.code, err.status = exc.code, exc.http_status
    return err


def _from_youtube_error(exc: Exception) -> ApplicationError:
    from backend.youtube import errors as youtube

    assert isinstance(exc, youtube.YouTubeError)
    if isinstance(exc, youtube.ChannelNotFound):
        return NotFoundError(exc.message, details=exc.details)
    if isinstance(exc, youtube.SearchCapExceeded):
        from datetime import UTC, datetime

        wait = (exc.resets_at - datetime.now(UTC)).total_seconds()
        return RateLimitedError(exc.message, retry_after_s=max(1.0, wait), details=exc.details)
    if isinstance(exc, youtube.UpstreamUnavailable):
        return UpstreamUnavailableError(exc.message, details=exc.details)
    return UpstreamError(exc.message, details=exc.details)


def _from_drf_validation(exc: drf_exceptions.ValidationError) -> ValidationError:
    detail = exc.detail
    if isinstance(detail, dict):
        fields = {key: _messages(value) for key, value in detail.items()}
        if not detail:
            return ValidationError("invalid", details={"fields": fields})
        first_field, problem = next(iter(detail.items()))
        path, first_message = _first_problem(problem)
        return ValidationError(f"{first_field}{path}: {first_message}", details={"fields": fields})
    messages = _messages(detail)
    return ValidationError(messages[0] if messages else None, details={"fields": {}})


def _first_problem(value: Any) -> tuple[str, str]:
    """Where below a field its first error is (``[1].role``; ``""`` for the field itself)
    and that error's message, so a nested error reads as a path, not a Python repr."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        if not any(isinstance(item, dict | list) for item in value):
            return "", str(value[0]) if value else "invalid"
        items = enumerate(value)  # a list serializer's errors: one entry per item
    else:
        return "", str(value)
    for key, item in items:
        if item in ({}, []):  # an item without errors
            continue
        path, message = _first_problem(item)
        if isinstance(key, int):
            step = f"[{key}]"
        else:  # an object's own error (``non_field_errors``) is the object's
            step = "" if key == api_settings.NON_FIELD_ERRORS_KEY else f".{key}"
        return step + path, message
    return "", "invalid"


def _messages(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [_flatten(item) for item in value]
    return [_flatten(value)]


def _flatten(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _messages(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_flatten(item) for item in value]
    return str(value)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every API error answers with the DESIGN.md body."""
    error = from_exception(exc)
    if error is None:
        logger.exception("unhandled_exception", exc_info=exc)
        error = InternalError()
    return Response(
        error_body(error.code, error.message, error.details),
        status=error.status,
        headers=error.headers(),
    )


def error_response(error: ApplicationError) -> JsonResponse:
    response = JsonResponse(
        error_body(error.code, error.message, error.details), status=error.status
    )
    for name, value in error.headers().items():
        response[name] = value
    return response


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(NotFoundError(f"No such resource: {request.path}"))


def server_error_view(request: HttpRequest) -> JsonResponse:
    # Django calls this while handling the exception (one raised in middleware, outside
    # ErrorBodyMiddleware): a known one still gets its own answer (e.g. 503 on overload).
    current = sys.exc_info()[1]
    known = from_exception(current) if current is not None else None
    return error_response(known if known is not None and known.status >= 500 else InternalError())


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(ValidationError("The request was rejected as malformed."))


def forbidden_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(ForbiddenError())


def csrf_failure_view(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(
        ForbiddenError(
            "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value.",
            details={"reason": reason},
        )
    )
