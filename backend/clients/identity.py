"""Who is asking: client token, cookie or API key → an ``Identity``; plus the abuse key
(the salted hash of the caller's network address)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

TOKEN_SALT = "insightstream.client-token"
TOKEN_HEADER = "X-Client-Token"
API_KEY_PREFIX = "isk_"


@dataclass(frozen=True, kw_only=True)
class Identity:
    client_id: str
    plan: str
    ip_hash: str
    via: Literal["header", "cookie", "api_key", "jwt", "session"]
    api_key_id: str | None = None
    is_admin: bool = False
    # Set when the caller is signed in to an account (JWT, session cookie or its API key);
    # ``client_id`` is then the account's own client, so budgets key on the account.
    account_id: str | None = None

    @property
    def is_authenticated(self) -> bool:  # lets DRF treat it as a user
        return True

    @property
    def from_cookie(self) -> bool:
        """Sent by the browser on its own (client or session cookie): writes need a header."""
        return self.via in ("cookie", "session")


def client_token_for(client_id: str) -> str:
    return signing.dumps({"c": client_id}, salt=TOKEN_SALT, compress=False)


def client_id_from_token(token: str) -> str | None:
    max_age = settings.ENV.CLIENT_TOKEN_MAX_AGE_DAYS * 86_400
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    client_id = payload.get("c") if isinstance(payload, dict) else None
    return client_id if isinstance(client_id, str) else None


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def client_ip(request: HttpRequest) -> str:
    """The peer address; X-Forwarded-For is believed only when the peer is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
    trusted = set(settings.ENV.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    # Walk from the nearest hop outwards, skipping our own proxies.
    for candidate in reversed([part for part in forwarded if part]):
        if candidate in trusted:
            continue
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            break
    return remote


# An IPv6 subscriber is normally given a whole /64 and picks addresses in it at will.
_IPV6_NETWORK_MASK = ((1 << 64) - 1) << 64


def network_address(ip: str) -> str:
    """The address an abuse key stands for: IPv4 as is (IPv4-mapped IPv6 too), an IPv6
    address's /64. Anything that does not parse is kept as it is (one odd key, not many)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Address(int(address) & _IPV6_NETWORK_MASK)
        return f"{network}/64"
    return str(address)


def ip_hash(request: HttpRequest) -> str:
    """Salted HMAC of the network address (see ``network_address``): the rate-limit and
    abuse key behind client minting, the per-IP budget and the sign-up and login throttles.

    Only the address goes in: anything the caller chooses freely (the User-Agent, say)
    would let it mint a fresh key per request. Raw addresses are never stored.
    """
    material = f"net|{network_address(client_ip(request))}"
    key = hashlib.sha256(f"ip-hash|{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()[:32]
