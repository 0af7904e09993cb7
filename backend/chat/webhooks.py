"""Per-session webhooks: a signed run summary POSTed on completion, retried with backoff.

Targets must be https and resolve only to public addresses (plain http to localhost is
allowed when DEBUG). The address check runs when the URL is set and again right before
every delivery, so a name re-pointed at a private address (DNS rebinding) is refused, and
the delivery connects to an address that check vetted (TLS still verifies the name), so
the name cannot be re-pointed between the check and the connection either.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import ssl
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


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def _local_allowed(host: str) -> bool:
    return bool(settings.DEBUG) and host in LOCAL_NAMES


def check_target(url: str) -> list[str]:
    """Raise UnsafeTarget unless ``url`` may receive webhooks now; returns the vetted
    addresses (none for local http in DEBUG, which connects by name)."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if not host:
        raise UnsafeTarget("the URL has no host")
    if parsed.scheme == "http" and _local_allowed(host):
        return []
    if parsed.scheme != "https":
        raise UnsafeTarget("webhook URLs must use https")
    try:
        infos = resolve(host, parsed.port or 443)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"the host does not resolve: {exc}") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not is_public(address):
            raise UnsafeTarget(f"the host resolves to a non-public address ({address})")
        addresses.append(str(address))
    if not addresses:
        raise UnsafeTarget("the host does not resolve")
    return addresses


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The request for ``url`` sent to ``address``: URL, Host header, TLS server name."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    ip = f"[{address}]" if ":" in address else address
    netloc = f"{ip}:{parsed.port}" if parsed.port else ip
    host_header = f"{host}:{parsed.port}" if parsed.port else host
    return parsed._replace(netloc=netloc).geturl(), {"Host": host_header}, {"sni_hostname": host}


def validate_url(url: str) -> str:
    try:
        check_target(url)
    except UnsafeTarget as exc:
        raise ValidationError.for_field("webhook_url", str(exc)) from None
    return url


class DeliveryDeadline(httpx.TimeoutException):
    """The whole delivery (connect, send, response) took longer than its deadline."""


def deliver(
    *,
    url: str,
    secret: str,
    payload: dict[str, Any],
    timeout_s: float = 10,
    deadline_s: float | None = None,
    verify: ssl.SSLContext | bool = True,
) -> int:
    """One delivery attempt; returns the HTTP status. Raises UnsafeTarget or httpx errors.

    ``timeout_s`` bounds each network wait (httpx's timeouts are per read, so a target
    that sends a byte every few seconds never trips them); ``deadline_s`` (default
    ``WEBHOOK_DEADLINE_S``) bounds the whole attempt, so a slow target cannot hold a
    worker slot for longer, and raises ``DeliveryDeadline``.
    """
    addresses = check_target(url)  # again now: the name may point elsewhere than when set
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret=secret, body=body, timestamp=int(time.time())),
        "User-Agent": "InsightStream-Webhooks/1",
    }
    target, extensions = url, dict[str, Any]()
    if addresses:  # connect to the vetted address, not to whatever the name says now
        target, host_header, extensions = pinned(url, addresses[0])
        headers.update(host_header)
    deadline = settings.ENV.WEBHOOK_DEADLINE_S if deadline_s is None else deadline_s

    async def post() -> int:
        async with httpx.AsyncClient(
            timeout=timeout_s, follow_redirects=False, verify=verify
        ) as client:
            try:
                async with asyncio.timeout(deadline):
                    response = await client.post(
                        target, content=body, headers=headers, extensions=extensions
                    )
            except TimeoutError:
                raise DeliveryDeadline(f"no complete response within {deadline:g} s") from None
        return response.status_code

    # Its own short-lived loop: deliveries run in a worker's (or the embedded runner's)
    # thread, never on a running loop.
    return asyncio.run(post())
