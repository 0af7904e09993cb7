"""Who may read a stream: the usual credentials, or a short-lived signed token in the URL
(so a plain ``EventSource``, which cannot set headers, works)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.http import HttpRequest

from backend.clients.authentication import identity_required
from backend.clients.identity import Identity
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


@dataclass(frozen=True)
class StreamCaller:
    """Who opens a stream: their client, and their identity unless a stream token let them in."""

    client_id: str
    identity: Identity | None = None


def stream_caller(request: HttpRequest, *, token_scope: str | None) -> StreamCaller:
    """The caller by the usual credentials, or by a stream token for ``token_scope``
    (``run:<id>`` or ``session:<id>``; ``None``: no token accepted); raises 401/403."""
    token = request.GET.get("st") if token_scope is not None else None
    if token:
        try:
            payload = signing.loads(token, salt=STREAM_TOKEN_SALT, max_age=STREAM_TOKEN_MAX_AGE_S)
        except signing.BadSignature:
            raise UnauthorizedError("The stream token is invalid or expired.") from None
        if payload.get("s") != token_scope:
            raise UnauthorizedError("The stream token is for another stream.")
        return StreamCaller(client_id=str(payload["c"]))
    missing = (
        "Send a client token (POST /api/clients/) or an API key."
        if token_scope is None
        else "Send a client token, an API key, or the stream URL's token."
    )
    identity = identity_required(request, missing=missing)
    return StreamCaller(client_id=identity.client_id, identity=identity)
