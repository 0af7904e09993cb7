"""Per-session webhooks: a signed run summary POSTed on completion, retried with backoff.

Targets must be https and resolve only to public addresses (plain http to localhost is
allowed when DEBUG). The address check runs when the URL is set and again right before
every delivery, so a name re-pointed at a private address (DNS rebinding) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from typing import Any
from urllib.parse import urlparse

import httpx
from django.conf import settings

from backend.core.errors import ValidationError

SIGNATURE_HEADER = "X-InsightStream-Signature"
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 2.0
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


class UnsafeTarget(Exception):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex>``: HMAC-SHA256 over ``<unix>.<body>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(*, secret: str, body: bytes, header: str, tolerance_s: int = 300) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = sign(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def resolve(host: str, port: int) -> list[Any]:
    """The target's addresses (one place, so tests can stand in a DNS answer)."""
    return socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)


def _local_allowed(host: str) -> bool:
    return bool(settings.DEBUG) and host in LOCAL_NAMES


def check_target(url: str) -> None:
    """Raise UnsafeTarget unless ``url`` may receive webhooks now."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if not host:
        raise UnsafeTarget("the URL has no host")
    if parsed.scheme == "http" and _local_allowed(host):
        return
    if parsed.scheme != "https":
        raise UnsafeTarget("webhook URLs must use https")
    try:
        infos = resolve(host, parsed.port or 443)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"the host does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeTarget(f"the host resolves to a non-public address ({address})")


def validate_url(url: str) -> str:
    try:
        check_target(url)
    except UnsafeTarget as exc:
        raise ValidationError.for_field("webhook_url", str(exc)) from None
    return url


def deliver(*, url: str, secret: str, payload: dict[str, Any], timeout_s: float = 10) -> int:
    """One delivery attempt; returns the HTTP status. Raises UnsafeTarget or httpx errors."""
    check_target(url)  # again now: the name may point elsewhere than when it was set
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret=secret, body=body, timestamp=int(time.time())),
        "User-Agent": "InsightStream-Webhooks/1",
    }
    response = httpx.post(
        url, content=body, headers=headers, timeout=timeout_s, follow_redirects=False
    )
    return response.status_code
