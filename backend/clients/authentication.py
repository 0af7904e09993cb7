"""DRF authentication and permission resting on ``Identity`` (see identity.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from backend.clients import selectors
from backend.clients.identity import (
    API_KEY_PREFIX,
    TOKEN_HEADER,
    Identity,
    client_id_from_token,
    ip_hash,
)
from backend.core.errors import ForbiddenError, UnauthorizedError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-Requested-With"


class IdentityError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Other ways to be someone (accounts: JWT, session, account API keys), consulted first.
# Each returns an Identity, None when the request does not use it, or raises IdentityError.
IdentityResolver = Callable[[HttpRequest, str], Identity | None]
_resolvers: list[IdentityResolver] = []


def register_resolver(resolver: IdentityResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def resolve_identity(request: HttpRequest) -> Identity | None:
    """The caller's identity, None when it sent no credentials; raises IdentityError on bad ones."""
    hashed_ip = ip_hash(request)
    for resolver in _resolvers:
        found = resolver(request, hashed_ip)
        if found is not None:
            return found
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential.startswith(API_KEY_PREFIX):
            raise IdentityError(
                "Authorization must be 'Bearer isk_...' with an InsightStream API key."
            )
        key = selectors.api_key_get_active(raw_key=credential)
        if key is None:
            raise IdentityError("This API key is unknown or has been revoked.")
        return Identity(
            client_id=str(key.client_id),
            plan=key.plan,
            ip_hash=hashed_ip,
            via="api_key",
            api_key_id=str(key.id),
            is_admin=key.is_admin,
        )
    token = request.headers.get(TOKEN_HEADER)
    via = "header"
    if not token:
        token = request.COOKIES.get(settings.ENV.CLIENT_TOKEN_COOKIE)
        via = "cookie"
    if not token:
        return None
    client_id = client_id_from_token(token)
    client = selectors.client_get(client_id=client_id) if client_id else None
    if client is None:
        raise IdentityError("The client token is not valid; get a new one from POST /api/clients/.")
    return Identity(client_id=str(client.id), plan=client.plan, ip_hash=hashed_ip, via=via)  # type: ignore[arg-type]


def identity_required(request: HttpRequest, *, missing: str) -> Identity:
    """The caller's identity for a plain (non-DRF) view, by the same rules as
    ``ClientAuthentication``: 401 (``missing`` says what to send) without credentials or with
    bad ones, 403 for a cookie-authenticated write without the ``CSRF_HEADER``."""
    try:
        identity = resolve_identity(request)
    except IdentityError as exc:
        raise UnauthorizedError(exc.message) from None
    if identity is None:
        raise UnauthorizedError(missing)
    unsafe = request.method not in SAFE_METHODS
    if identity.from_cookie and unsafe and not request.headers.get(CSRF_HEADER):
        raise ForbiddenError(f"Cookie-authenticated requests must send the {CSRF_HEADER} header.")
    return identity


class ClientAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Identity, Identity] | None:
        try:
            identity = resolve_identity(request._request)
        except IdentityError as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        if identity is None:
            return None
        # A cookie is sent by the browser on cross-site requests too; a custom header is not
        # (CORS would need a preflight we do not grant), so unsafe cookie requests need it.
        unsafe = request.method not in SAFE_METHODS
        if identity.from_cookie and unsafe and not request.headers.get(CSRF_HEADER):
            raise exceptions.PermissionDenied(
                "Cookie-authenticated requests that change state must send the "
                f"{CSRF_HEADER} header."
            )
        request._request.client_id = identity.client_id  # type: ignore[attr-defined]
        # DRF copies the returned user onto the Django request: keep the session's user
        # (staff in the admin) rather than replacing it with the client identity.
        return getattr(request._request, "user", None), identity  # type: ignore[return-value]

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="insightstream"'


class SessionUserAuthentication(BaseAuthentication):
    """A logged-in Django user (staff, via the admin's session) with no client credentials."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        user = getattr(request._request, "user", None)
        if user is not None and user.is_authenticated:
            return user, None
        return None


class HasClient(BasePermission):
    message = (
        "Send a client token (X-Client-Token or cookie from POST /api/clients/) or an API key."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Identity)
