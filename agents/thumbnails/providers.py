"""Image providers over plain HTTP: Replicate (paid, primary) and Pollinations (free).

Each call is bounded by one total deadline (``timeout_s`` from the start, enforced with
``asyncio.timeout``): httpx's own timeout is per read, so a peer that drips its reply
would otherwise hold a call open for as long as it likes. No retries here; the chain's
fallback to the next provider is the retry policy.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from agents.thumbnails.spec import ProviderError, ProviderTimeoutError, ThumbnailSpec

REPLICATE_BASE_URL = "https://api.replicate.com"
POLLINATIONS_BASE_URL = "https://image.pollinations.ai"
# Generous for a 1280×720 image in any format; a bigger body is not a thumbnail.
MAX_IMAGE_BYTES = 25 * 1024 * 1024
# Pollinations takes the prompt in the URL path; keep the URL within what servers accept.
MAX_URL_PROMPT_CHARS = 1500
_FINISHED = frozenset({"succeeded", "failed", "canceled"})
_REASON_CHARS = 200


class ReplicateProvider:
    """Replicate's predictions API: create, wait (``Prefer: wait``), poll, download."""

    paid = True

    def __init__(
        self,
        *,
        api_token: str,
        base_url: str = REPLICATE_BASE_URL,
        model: str = "black-forest-labs/flux-schnell",
        timeout_s: float = 60.0,
        poll_interval_s: float = 1.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        owner, _, name = model.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"Replicate model must be 'owner/name', got {model!r}")
        self.name = "replicate"
        self.model = model
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        self._api_token = api_token
        self._base_url = base_url.rstrip("/")
        self._http = http

    async def generate(self, spec: ThumbnailSpec) -> bytes:
        try:
            async with asyncio.timeout(self.timeout_s), _client(self._http, self.timeout_s) as http:
                prediction = await self._create(http, spec)
                while prediction.get("status") not in _FINISHED:
                    await asyncio.sleep(self.poll_interval_s)
                    prediction = await self._poll(http, prediction)
                return await self._output(http, prediction)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ProviderTimeoutError(f"timeout after {self.timeout_s:g} s") from exc

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_token}"}

    async def _create(self, http: httpx.AsyncClient, spec: ThumbnailSpec) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "prompt": spec.prompt,
            "aspect_ratio": "16:9",
            "output_format": "png",
            "num_outputs": 1,
        }
        if spec.seed is not None:
            payload["seed"] = spec.seed
        if spec.reference_image is not None:
            payload["image"] = _data_uri(spec.reference_image)
        wait_s = max(1, min(60, int(self.timeout_s)))  # Replicate accepts 1..60
        response = await http.post(
            f"{self._base_url}/v1/models/{self.model}/predictions",
            headers={**self._auth, "Prefer": f"wait={wait_s}"},
            json={"input": payload},
        )
        return _prediction(response)

    async def _poll(self, http: httpx.AsyncClient, prediction: dict[str, Any]) -> dict[str, Any]:
        response = await http.get(self._poll_url(prediction), headers=self._auth)
        return _prediction(response)

    def _poll_url(self, prediction: dict[str, Any]) -> str:
        # The token goes only to the API's own origin, whatever URL a reply names.
        url = str((prediction.get("urls") or {}).get("get") or "")
        if url and _origin(url) == _origin(self._base_url):
            return url
        prediction_id = prediction.get("id")
        if not prediction_id:
            raise ProviderError("prediction without id or poll URL")
        return f"{self._base_url}/v1/predictions/{quote(str(prediction_id), safe='')}"

    async def _output(self, http: httpx.AsyncClient, prediction: dict[str, Any]) -> bytes:
        status = prediction.get("status")
        if status == "canceled":
            raise ProviderError("prediction canceled")
        if status == "failed":
            error = _short(str(prediction.get("error") or "no reason given"))
            prefix = "refused" if "nsfw" in error.casefold() else "prediction failed"
            raise ProviderError(f"{prefix}: {error}")
        output = prediction.get("output")
        if isinstance(output, list):
            output = output[0] if output else None
        if not isinstance(output, str) or not output:
            raise ProviderError("prediction succeeded without an output")
        if output.startswith("data:"):
            return _decode_data_uri(output)
        # The file host is not the API: no Authorization header goes with this download.
        return await _download(http, output)


class PollinationsProvider:
    """Pollinations' free image endpoint: one GET answers with the image."""

    paid = False

    def __init__(
        self,
        *,
        base_url: str = POLLINATIONS_BASE_URL,
        model: str = "flux",
        timeout_s: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = "pollinations"
        self.model = model
        self.timeout_s = timeout_s
        self._base_url = base_url.rstrip("/")
        self._http = http

    async def generate(self, spec: ThumbnailSpec) -> bytes:
        params: dict[str, str | int] = {
            "width": spec.width,
            "height": spec.height,
            "model": self.model,
            "nologo": "true",
        }
        if spec.seed is not None:
            params["seed"] = spec.seed
        prompt = quote(spec.prompt[:MAX_URL_PROMPT_CHARS], safe="")
        try:
            async with asyncio.timeout(self.timeout_s), _client(self._http, self.timeout_s) as http:
                return await _download(http, f"{self._base_url}/prompt/{prompt}", params=params)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ProviderTimeoutError(f"timeout after {self.timeout_s:g} s") from exc


@contextlib.asynccontextmanager
async def _client(
    shared: httpx.AsyncClient | None, timeout_s: float
) -> AsyncIterator[httpx.AsyncClient]:
    if shared is not None:
        yield shared
        return
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s)) as own:
        yield own


def _prediction(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise ProviderError(_http_reason(response))
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError("prediction reply is not JSON") from exc
    if not isinstance(body, dict):
        raise ProviderError("prediction reply is not a JSON object")
    return body


def _http_reason(response: httpx.Response) -> str:
    """``HTTP <code>``; a 400/422 naming its reason is a refusal and says why."""
    detail = ""
    if response.status_code in (400, 422):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
    if detail:
        return f"refused (HTTP {response.status_code}): {_short(detail)}"
    return f"HTTP {response.status_code}"


async def _download(
    http: httpx.AsyncClient, url: str, *, params: dict[str, str | int] | None = None
) -> bytes:
    async with http.stream("GET", url, params=params, follow_redirects=True) as response:
        if response.status_code >= 400:
            raise ProviderError(f"HTTP {response.status_code}")
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("image/"):
            raise ProviderError(f"not an image: {_short(content_type or 'no content-type')}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > MAX_IMAGE_BYTES:
                raise ProviderError(f"image larger than {MAX_IMAGE_BYTES} bytes")
        return bytes(body)


def _data_uri(image: bytes) -> str:
    return f"data:{_mime_type(image)};base64,{base64.b64encode(image).decode('ascii')}"


def _decode_data_uri(uri: str) -> bytes:
    header, _, data = uri.partition(",")
    if not header.endswith(";base64"):
        raise ProviderError("output data URI is not base64")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError("output data URI is not valid base64") from exc


def _mime_type(image: bytes) -> str:
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    if image[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"
