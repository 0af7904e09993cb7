"""Django's own middleware, with their hooks run on the event loop.

In an async middleware chain, Django's ``MiddlewareMixin`` sends every ``process_request``
and ``process_response`` to a thread (``sync_to_async``): two thread hops per middleware
per request, ~14 for the stack in settings. They were most of a request's CPU (6 ms for
``/livez``). These hooks only compute, except where a request changed its session or its
messages (saving them may touch the database): those cases alone still go to a thread.
The sync path (WSGI, Django's test client) is Django's, unchanged.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Sessions
from django.http import HttpRequest, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptions
from django.middleware.common import CommonMiddleware as _Common
from django.middleware.csrf import CsrfViewMiddleware as _Csrf
from django.middleware.security import SecurityMiddleware as _Security


class _OnTheLoop:
    """Mixin for a ``MiddlewareMixin`` subclass (listed first in its bases)."""

    get_response: Any

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return False

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            if self.request_needs_thread(request):
                response = await sync_to_async(process_request, thread_sensitive=True)(request)
            else:
                response = process_request(request)
        response = response or await self.get_response(request)
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_needs_thread(request, response):
                response = await sync_to_async(process_response, thread_sensitive=True)(
                    request, response
                )
            else:
                response = process_response(request, response)
        return response


class SecurityMiddleware(_OnTheLoop, _Security):
    pass


class SessionMiddleware(_OnTheLoop, _Sessions):
    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class CommonMiddleware(_OnTheLoop, _Common):
    pass


class CsrfViewMiddleware(_OnTheLoop, _Csrf):
    # The token lives in a cookie unless CSRF_USE_SESSIONS puts it in the session.
    def request_needs_thread(self, request: HttpRequest) -> bool:
        return bool(settings.CSRF_USE_SESSIONS)

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return bool(settings.CSRF_USE_SESSIONS)


class AuthenticationMiddleware(_OnTheLoop, _Authentication):
    pass  # sets a lazy user; loading it happens in the view


class MessageMiddleware(_OnTheLoop, _Messages):
    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and bool(storage.used or storage.added_new)


class XFrameOptionsMiddleware(_OnTheLoop, _XFrameOptions):
    pass
