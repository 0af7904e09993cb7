"""Who may read a stream: the usual credentials, or a short-lived signed token in the URL
(so a plain ``EventSource``, which cannot set headers, works)."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest

from backend.clients.authentication import IdentityError, resolve_identity
from backend.core.errors import UnauthorizedError
from backend.runs.models import Run

STREAM_TOKEN_SALT = "insightstream.stream-token"
STREAM_TOKEN_MAX_AGE_S = 3600


def stream_token(*, client_id: str, scope: str) -> str:
    return signing.dumps({"c": client_id, "s": scope}, salt=STREAM_TOKEN_SALT)


def stream_url(path: str, *, client_id: str, scope: str) -> str:
    return f"{path}?st={stream_token(client_id=client_id, scope=scope)}"


def run_stream_url(run: Run) -> str:
    """A run's ``stream_url``, readable by a plain ``EventSource``."""
    return stream_url(f"/api/runs/{run.id}/stream/", client_id=run.client_id, scope=f"run:{run.id}")


def stream_client_id(request: HttpRequest, *, scope: str) -> str:
    """The client reading ``scope`` (``run:<id>`` or ``session:<id>``); raises 401."""
    token = request.GET.get("st")
    if token:
        try:
            payload = signing.loads(token, salt=STREAM_TOKEN_SALT, max_age=STREAM_TOKEN_MAX_AGE_S)
        except signing.BadSignature:
            raise UnauthorizedError("The stream token is invalid or expired.") from None
        if payload.get("s") != scope:
            raise UnauthorizedError("The stream token is for another stream.")
        return str(payload["c"])
    try:
        identity = resolve_identity(request)
    except IdentityError as exc:
        raise UnauthorizedError(exc.message) from None
    if identity is None:
        raise UnauthorizedError("Send a client token, an API key, or the stream URL's token.")
    return identity.client_id
