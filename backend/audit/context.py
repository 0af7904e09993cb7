"""The request an audit event is recorded in, so services need not carry it.

``AuditContextMiddleware`` (right after ``RequestContextMiddleware``) keeps the current
request in a context variable for as long as the view runs; ``audit_record`` takes the
request id from it (``request.request_id``, set by ``RequestContextMiddleware``, the
``X-Request-ID`` of the response) and the IP hash (``backend.clients.identity.ip_hash``,
the same salted network-address hash the throttles key on). Work outside a request
(tasks, the Stripe fulfilment job, the shell) records neither.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from backend.clients.identity import ip_hash

_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "audit_current_request", default=None
)


@dataclass(frozen=True)
class RequestMeta:
    ip_hash: str
    request_id: str


def current_request_meta() -> RequestMeta:
    """The current request's IP hash and request id (empty outside a request)."""
    request = _current_request.get()
    if request is None:
        return RequestMeta(ip_hash="", request_id="")
    return RequestMeta(
        ip_hash=ip_hash(request), request_id=str(getattr(request, "request_id", "") or "")
    )


class AuditContextMiddleware:
    """Makes the request visible to ``current_request_meta`` while the view runs."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        token = _current_request.set(request)
        try:
            return await self.get_response(request)
        finally:
            _current_request.reset(token)
