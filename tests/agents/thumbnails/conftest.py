"""The fake image APIs, and helpers to read the PNGs the chain hands back."""

from __future__ import annotations

import io
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fakes.image_servers import PollinationsServer, ReplicateServer


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the local fakes are reachable: a name lookup or a connection elsewhere fails."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in ("localhost", None) and not _loopback(name):
            raise OSError(f"test tried to look up {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise OSError(f"test tried to connect to {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def replicate_server() -> Iterator[ReplicateServer]:
    server = ReplicateServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pollinations_server() -> Iterator[PollinationsServer]:
    server = PollinationsServer().start()
    try:
        yield server
    finally:
        server.stop()


def png_pixels(png: bytes) -> np.ndarray:
    """The image as an ``(height, width, 3)`` array; fails unless it is a PNG."""
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def centre_colour(png: bytes) -> tuple[int, ...]:
    pixels = png_pixels(png)
    height, width = pixels.shape[:2]
    return tuple(int(c) for c in pixels[height // 2, width // 2])


def close_to(
    colour: tuple[int, ...], expected: tuple[int, int, int], *, tolerance: int = 12
) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))
