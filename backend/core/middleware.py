"""Request-wide middleware. Each works sync and async, so SSE views stay fully async."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

from backend.core.body_limit import limit_for, too_large_message
from backend.core.errors import (
    STATUS_CODES,
    InternalError,
    PayloadTooLargeError,
    ValidationError,
    error_response,
    from_exception,
)

logger = structlog.get_logger("backend.request")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_from(incoming: str) -> str:
    """The client's request id when it is a sane one, else a new id."""
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


Handler = Callable[[HttpRequest], Any]


def _adopt_mode(middleware: Any, get_response: Handler) -> bool:
    """Whether the chain below runs async; if so the middleware is marked a coroutine
    function, so Django calls it on the event loop."""
    is_async = iscoroutinefunction(get_response)
    if is_async:
        markcoroutinefunction(middleware)
    return is_async


class _Middleware:
    """Base for middleware that runs the same logic on both the sync and async paths."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.is_async = _adopt_mode(self, get_response)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        early = self.before(request)
        if early is not None:
            return self.after(request, early)
        return self.after(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        early = self.before(request)
        if early is not None:
            return self.after(request, early)
        response = await self.get_response(request)
        return self.after(request, response)

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        return response


class RequestContextMiddleware(_Middleware):
    """Request id on every response and log line; one access log line per request."""

    def before(self, request: HttpRequest) -> None:
        request_id = request_id_from(request.headers.get("X-Request-ID", ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        request._started_at = time.perf_counter()  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return None

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        request_id = getattr(request, "request_id", None) or uuid.uuid4().hex
        response["X-Request-ID"] = request_id
        started = getattr(request, "_started_at", time.perf_counter())
        logger.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            streaming=response.streaming,
            client_id=getattr(request, "client_id", None),
        )
        return response


class BodySizeLimitMiddleware(_Middleware):
    """The same cap as ``backend.core.body_limit`` (which enforces it under ASGI before
    Django reads the body), for requests that do not come through the ASGI app."""

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        raw = request.headers.get("Content-Length")
        if raw is None:
            return None
        try:
            length = int(raw)
        except ValueError:
            return error_response(
                ValidationError.for_field("Content-Length", "must be a whole number of bytes")
            )
        limit = limit_for(request.path)
        if length > limit:
            return error_response(
                PayloadTooLargeError(
                    too_large_message(limit=limit, length=length),
                    details={"limit_bytes": limit},
                )
            )
        return None


class WriteGateMiddleware:
    """At most ``WEB_WRITE_CONCURRENCY`` writes in a web process at once; reads pass.

    Under ASGI every request that runs a sync view (or a ``released`` lookup) gets a thread
    of its own: 200 message posts at once were 200 threads taking turns on the GIL, and a
    3 ms ``GET /api/clients/me/`` waited its turn among them (p95 360 ms in the soak's
    warm phase). The writes beyond the gate wait on the event loop instead, where waiting
    costs nothing, and run in arrival order. A streamed response passes the gate once it
    is built: its stream is not held.
    """

    sync_capable = True
    async_capable = True
    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.is_async = _adopt_mode(self, get_response)
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in self.SAFE:
            return await self.get_response(request)
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(settings.ENV.WEB_WRITE_CONCURRENCY)
        async with gate:
            return await self.get_response(request)


class ErrorBodyMiddleware(_Middleware):
    """Turn Django's bare error responses (404/405/500 from plain views) into the error body.

    DRF views already answer with the body; plain Django views and the URL resolver do not.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        try:
            response = self.get_response(request)
        except Exception as exc:
            return self._from_exception(exc)
        return self.after(request, response)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        try:
            response = await self.get_response(request)
        except Exception as exc:
            return self._from_exception(exc)
        return self.after(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase:
        return self._from_exception(exception)

    @staticmethod
    def _from_exception(exc: Exception) -> HttpResponseBase:
        error = from_exception(exc)
        if error is None:
            logger.exception("unhandled_exception", exc_info=exc)
            error = InternalError()
        return error_response(error)

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.status_code < 400 or response.streaming:
            return response
        # A page of the chat UI (its own "not found" page) is meant for people.
        if getattr(response, "is_ui_page", False):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        error_cls = STATUS_CODES.get(response.status_code, InternalError)
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            new = error_response(
                error_cls(
                    f"Method {request.method} is not allowed here.",
                    details={"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
                )
            )
            new["Allow"] = allowed
            return new
        if response.status_code == 404:
            return error_response(error_cls(f"No such resource: {request.path}"))
        return error_response(error_cls())


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise (static files and the built UI's assets) that also runs async.

    WhiteNoise's middleware is sync-only, and one sync-only middleware splits the chain:
    every API request then hopped from the event loop to a thread and back again around it
    (SSE requests too). This one answers a static path by WhiteNoise's own lookup and hands
    everything else to the next middleware on whichever path the chain runs.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        super().__init__(get_response)
        self.is_async = _adopt_mode(self, get_response)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        static_file = self._static_file(request.path_info)
        if static_file is not None:
            # Opening the file and reading its headers touch the disk: off the loop.
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)

    def _static_file(self, path: str) -> Any:
        if self.autorefresh:
            return self.find_file(path)
        return self.files.get(path)
