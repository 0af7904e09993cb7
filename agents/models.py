"""The one chat-model factory: every model the product talks to is built and guarded here.

``ModelFactory.chat_model`` returns a ``GuardedChatModel`` around either the offline
model or ``ChatOpenAI`` pointed at any OpenAI-compatible endpoint (OpenRouter by
default). For each attempt at a call the guarded model reserves the worst case with the
cost guard, runs the call and settles the real usage, whatever happens in between
(errors, cancellation, a consumer that stops reading a stream). Client-side retries are
off; the guard wrapper retries transient upstream errors, each attempt reserved on its own.

A call that ends before the provider's usage arrives (cancelled, timed out, the stream
dropped) settles *unreported*: at its reserved worst case, recorded as an estimate with
the generation id, which the reconciliation job corrects once the provider reports the
billed cost (``generation_billing``). The generation id is also given to the guard as
soon as an attempt learns it (in the background, best effort), so that a reservation
whose holder dies before settling can be corrected the same way. The settle runs to its
end even if the caller is cancelled again meanwhile. Inside a run (a 202 already
answered) a call at the client's concurrency or rate limit waits for a slot, up to
``slot_wait_s``, instead of failing, and a budget store it cannot reach is asked again for
up to ``store_outage_wait_s``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import inspect
import json
import logging
import threading
import time
import weakref
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_openai_messages,
    message_to_dict,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict

from agents.guard.interface import (
    BudgetExceededError,
    CallMeta,
    CallUsage,
    Guard,
    GuardUnavailableError,
    ModelPrice,
    RateLimitedError,
    Reservation,
    SettleDeferredError,
    UnknownModelPriceError,
)
from agents.guard.outage import STORE_OUTAGE_POLL_S, STORE_OUTAGE_WAIT_S
from agents.guard.pricing import micros_to_usd, settled_micros, usd_to_micros

logger = logging.getLogger(__name__)

OFFLINE_MODEL_ID = "offline"
OFFLINE_MODEL_PRICE = ModelPrice(
    model_id=OFFLINE_MODEL_ID,
    input_per_token=Decimal(0),
    output_per_token=Decimal(0),
    offline=True,
    provider="offline",
)

# Chat templates wrap each message in a few special tokens and the request in a few more;
# these constants cover them generously so the bound stays an upper bound.
PER_MESSAGE_TOKEN_OVERHEAD = 8
PER_REQUEST_TOKEN_OVERHEAD = 16

# What one image in a prompt counts as, in prompt tokens, whatever the size of its bytes
# (a base64 data URI is not tokenised as text). For an image whose longer side is at most
# 1280 px, as the callers send them (``agents.thumbnails.vision`` downscales first):
# OpenAI's high-detail tiling scales 1280×720 so its shorter side is 768 px (1365×768),
# i.e. 3×2 tiles of 512 px at 170 tokens plus 85 = 1,105 tokens, and no image within
# 1280 px makes more than 6 tiles; Anthropic counts width×height/750 and resizes anything
# above ~1.15 megapixels, at most ~1,600 tokens. 1,600 bounds both. A model that bills
# an image at its own price on top (OpenRouter's ``pricing.image``) is reserved that too.
IMAGE_INPUT_TOKENS = 1_600
# Content parts that carry an image: OpenAI's ``image_url`` (and the Responses API's
# ``input_image``) and LangChain's standard ``image`` block.
IMAGE_PART_TYPES = frozenset({"image_url", "input_image", "image"})

# Key under which the guarded model reports the settled cost of a call (USD, float).
COST_METADATA_KEY = "guard_cost_usd"
# Where CostReportingChatOpenAI puts a stream chunk's generation id (taken off again by
# the guarded model, so merged chunks never concatenate it).
GENERATION_ID_KEY = "generation_id"
# A call waiting for one of its client's concurrency slots asks again after this long,
# doubling up to the cap (a slot frees when any of the client's calls ends).
SLOT_POLL_FIRST_S = 0.05
SLOT_POLL_MAX_S = 1.0

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """How to reach the OpenAI-compatible endpoint and how hard to retry it."""

    base_url: str = "https://openrouter.ai/api/v1"
    api_key: str | None = None
    # OpenRouter attributes traffic by these two headers.
    app_url: str = "https://github.com/insightstream/insightstream"
    app_title: str = "InsightStream"
    request_timeout_s: float = 120.0
    # Attempts per call including the first; only transient upstream errors are retried.
    max_attempts: int = 3
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 8.0
    offline_token_delay_s: float = 0.0
    # Inside a run, how long a call may wait for a concurrency slot or a rate token
    # before it fails with RATE_LIMITED (0: fail at once).
    slot_wait_s: float = 0.0
    # Models to fall back to, in order, by feature ("plan", "respond", "tool:hashtags"...;
    # "*" for every feature without its own list).
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def fallbacks_for(self, feature: str) -> tuple[str, ...]:
        return tuple(self.fallbacks.get(feature, self.fallbacks.get("*", ())))


@dataclass(frozen=True, kw_only=True)
class ModelCallEvent:
    """One attempt at a model call, as reported to analytics (PostHog ``$ai_generation``)."""

    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    latency_s: float
    cost_usd: Decimal
    is_error: bool
    trace_id: str | None  # the run id
    feature: str
    session_id: str | None
    client_id: str
    attempt: int
    error_type: str | None = None
    reservation_id: str | None = None
    reserved_usd: Decimal = Decimal(0)
    # The cost is the reservation's worst case: the call ended before the provider said
    # what it used (see ``CallUsage.unreported``); to be corrected by the generation id.
    estimated: bool = False
    generation_id: str | None = None
    # The store could not record the settle; the ledger keeps it for the sweeper.
    settle_pending: bool = False
    # The reservation itself, for the backend to keep its settlement record.
    reservation: Reservation | None = None
    # SHA-256 (hex) of the prompt messages as sent (``prompt_hash``): the same prompt,
    # the same hash, without the ledger keeping the prompt.
    prompt_hash: str | None = None


class ModelCallAnalytics(Protocol):
    """``model_call`` once per call attempt, as soon as its cost is known (before the
    budget store settles it). A hook may also have ``settle_pending(event)``: the store
    did not take that call's settle, so its record must keep it to be completed later;
    and ``call_refused(meta, error)``: the guard refused a call (budget or rate)."""

    def model_call(self, event: ModelCallEvent) -> Awaitable[None] | None: ...


def _is_image_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") in IMAGE_PART_TYPES


def image_inputs(messages: Sequence[BaseMessage]) -> int:
    """How many images the messages carry (content parts of an image type)."""
    return sum(
        1
        for message in messages
        if isinstance(message.content, list)
        for part in message.content
        if _is_image_part(part)
    )


def _without_images(message: BaseMessage) -> BaseMessage:
    """The message with each image part reduced to its type (its bytes are not text)."""
    if not isinstance(message.content, list) or not any(map(_is_image_part, message.content)):
        return message
    content = [
        {"type": part["type"]} if isinstance(part, dict) and _is_image_part(part) else part
        for part in message.content
    ]
    return message.model_copy(update={"content": content})


def prompt_tokens_upper_bound(
    *, messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None
) -> int:
    """An upper bound on the prompt tokens of a request, computed with no network.

    A BPE token always covers at least one byte of text, so the UTF-8 size of the
    serialized messages and tool schemas (which contain the text, plus JSON syntax)
    bounds the text tokens; the constants cover template tokens around messages. An image
    counts ``IMAGE_INPUT_TOKENS``, however many bytes its data URI has.
    """
    payload = json.dumps(
        [message_to_dict(_without_images(m)) for m in messages], ensure_ascii=False, default=str
    ).encode()
    tool_payload = json.dumps(list(tools or []), ensure_ascii=False, default=str).encode()
    return (
        len(payload)
        + len(tool_payload)
        + IMAGE_INPUT_TOKENS * image_inputs(messages)
        + PER_MESSAGE_TOKEN_OVERHEAD * len(messages)
        + PER_REQUEST_TOKEN_OVERHEAD
    )


def prompt_hash(messages: Sequence[BaseMessage]) -> str | None:
    """SHA-256 (hex) of the messages in the OpenAI wire form they are sent in (role,
    content, tool calls; no message ids), as canonical JSON. None if they do not convert:
    the hash describes the call and must never fail it."""
    try:
        wire = convert_to_openai_messages(list(messages))
    except Exception:
        logger.warning("prompt messages could not be hashed", exc_info=True)
        return None
    canonical = json.dumps(
        wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class TruncatedStreamError(Exception):
    """A stream that ended without its finish chunk (no ``finish_reason``): the answer is
    cut short, though the provider may have billed it."""


def is_transient_upstream_error(exc: BaseException) -> bool:
    """Connection trouble, timeouts, 5xx and 429 from upstream, a truncated stream: worth
    another attempt (or the next model of a fallback chain)."""
    import httpx
    import openai

    if isinstance(exc, TruncatedStreamError):
        return True
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _retry_after_s(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        return float(headers.get("retry-after", ""))
    except ValueError:
        return None


def billed_nothing(exc: BaseException) -> bool:
    """Whether a call that failed with ``exc`` cannot have been billed.

    The provider answered with an error status before any completion (OpenRouter bills
    no failed request), or the connection was never made. Anything else — cancellation,
    a timeout while waiting for or reading the answer, a stream that dropped — may have
    been billed.
    """
    import openai

    if isinstance(exc, openai.APIStatusError):
        return True
    never_connected = _never_connected_errors()
    # The connect failure sits under the SDK's APIConnectionError (and langchain's
    # wrapper of it); a timeout or a reset while reading is not one.
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, never_connected):
            return True
        if not isinstance(seen, openai.APIConnectionError) or isinstance(
            seen, openai.APITimeoutError
        ):
            return False
        seen = seen.__cause__
    return False


def _never_connected_errors() -> tuple[type[BaseException], ...]:
    # The openai SDK speaks through httpx2 (its own copy of httpx); check plain httpx too.
    found: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        found += [module.ConnectError, module.ConnectTimeout]
    return tuple(found)


class _AttemptRecord:
    """What one attempt used, filled in as the response (or stream) arrives.

    ``on_generation_id`` is told the provider's id for the generation once, when the
    attempt first learns it (a response header or the first chunk).
    """

    def __init__(
        self,
        *,
        on_generation_id: Callable[[str], None] | None = None,
        images: int = 0,
        prompt_hash: str | None = None,
    ) -> None:
        self._on_generation_id = on_generation_id
        self.images = images
        self.prompt_hash = prompt_hash
        # The stream's finish chunk arrived (its ``finish_reason``).
        self.finished = False
        self.started = time.monotonic()
        self.input_tokens = 0
        self.output_tokens = 0
        self.reported_cost_usd: Decimal | None = None
        self.usage_reported = False
        self.generation_id: str | None = None
        self.error: BaseException | None = None

    def observe_message(self, message: BaseMessage) -> None:
        usage = getattr(message, "usage_metadata", None)
        if usage:
            # Streams report usage once, in the final chunk; a full message carries it too.
            self.usage_reported = True
            self.input_tokens = max(self.input_tokens, int(usage.get("input_tokens", 0)))
            self.output_tokens = max(self.output_tokens, int(usage.get("output_tokens", 0)))
        self._observe_cost(message.response_metadata.get("token_usage"))
        self._observe_cost({"cost": message.response_metadata.get("reported_cost_usd")})
        self._observe_generation_id(message.response_metadata.get("id"))

    def observe_chunk(self, chunk: ChatGenerationChunk) -> None:
        self.observe_message(chunk.message)
        info = chunk.generation_info or {}
        if info.get("finish_reason") or chunk.message.response_metadata.get("finish_reason"):
            self.finished = True
        self._observe_cost({"cost": info.get("reported_cost_usd")})
        if GENERATION_ID_KEY in info:
            self._observe_generation_id(info.get(GENERATION_ID_KEY))
            chunk.generation_info = {k: v for k, v in info.items() if k != GENERATION_ID_KEY}

    def observe_result(self, result: ChatResult) -> None:
        for generation in result.generations:
            self.observe_message(generation.message)
        self._observe_cost((result.llm_output or {}).get("token_usage"))
        self._observe_generation_id((result.llm_output or {}).get("id"))

    def _observe_cost(self, token_usage: Any) -> None:
        if isinstance(token_usage, dict) and token_usage.get("cost") is not None:
            try:
                self.reported_cost_usd = Decimal(str(token_usage["cost"]))
                self.usage_reported = True
            except ArithmeticError:
                logger.warning("unparseable provider cost %r", token_usage["cost"])

    def _observe_generation_id(self, value: Any) -> None:
        if self.generation_id is None and isinstance(value, str) and value:
            self.generation_id = value[:200]
            if self._on_generation_id is not None:
                self._on_generation_id(self.generation_id)

    def usage(self) -> CallUsage:
        unbilled = self.error is not None and billed_nothing(self.error)
        return CallUsage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            reported_cost_usd=self.reported_cost_usd,
            is_error=self.error is not None,
            latency_s=time.monotonic() - self.started,
            unreported=not self.usage_reported and not unbilled,
            generation_id=self.generation_id,
            images=0 if unbilled else self.images,
        )


# The attempt a request belongs to, so the HTTP client's response hook can note the
# generation id from the headers (OpenRouter sends X-Generation-Id before any chunk).
_CURRENT_ATTEMPT: contextvars.ContextVar[_AttemptRecord | None] = contextvars.ContextVar(
    "guarded_model_attempt", default=None
)
GENERATION_ID_HEADER = "x-generation-id"
# Generation ids on their way to the guard: the loop keeps only weak references to tasks,
# so these are held here until done (the asyncio documentation's idiom).
_noting_tasks: set[asyncio.Task[None]] = set()


async def _note_generation_id(response: Any) -> None:
    record = _CURRENT_ATTEMPT.get()
    if record is not None:
        record._observe_generation_id(response.headers.get(GENERATION_ID_HEADER))


# httpx clients belong to the event loop that opened their connections (Celery runs a loop
# per task), so each loop gets its own, keyed by base URL and timeout.
_http_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, Any]] = (
    weakref.WeakKeyDictionary()
)


def _http_client(base_url: str, timeout_s: float) -> Any:
    """The async HTTP client for ChatOpenAI on this loop, with the generation-id hook.

    Built the way langchain-openai builds its default one (its transport, TCP keepalive
    socket options and pool limits), plus the response hook.
    """
    from langchain_openai.chat_models import _client_utils

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    cache = _http_clients.setdefault(loop, {}) if loop is not None else {}
    client = cache.get((base_url, timeout_s))
    if client is None:
        try:
            client = _client_utils._build_async_httpx_client(
                base_url, timeout_s, _client_utils._resolve_socket_options(None)
            )
        except AttributeError:  # a langchain-openai that moved its private builder
            import openai

            client = openai.DefaultAsyncHttpxClient(base_url=base_url, timeout=timeout_s)
        client.event_hooks = {"response": [_note_generation_id]}
        cache[(base_url, timeout_s)] = client
    return client


class GuardedChatModel(BaseChatModel):
    """Delegates to ``inner``; reserves before and settles after every attempt."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    guard: Any  # agents.guard.interface.Guard (a Protocol pydantic cannot validate)
    price: ModelPrice
    meta: CallMeta
    max_tokens: int
    max_attempts: int = 3
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 8.0
    analytics: Any = None  # ModelCallAnalytics | None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # Inside a run (``meta.run_id``), how long to wait for a concurrency slot or a rate
    # token; calls outside a run (an HTTP request waiting for its answer) fail at once.
    slot_wait_s: float = 0.0
    # Inside a run, how long a budget store outage is waited out (see STORE_OUTAGE_WAIT_S).
    store_outage_wait_s: float = STORE_OUTAGE_WAIT_S
    # A stream that ends without a finish chunk is an error (``TruncatedStreamError``):
    # on for providers over HTTP, off for the offline model (whose chunks carry none).
    detect_truncation: bool = False

    @property
    def _llm_type(self) -> str:
        return f"guarded-{getattr(self.inner, '_llm_type', 'chat')}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.price.model_id, "feature": self.meta.feature}

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # Tools travel as OpenAI-format kwargs down to the inner model's _agenerate, which
        # both ChatOpenAI and the offline model understand.
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            if tool_choice == "any":
                tool_choice = "required"
            elif isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
                tool_choice = {"type": "function", "function": {"name": tool_choice}}
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    # -- guard bookkeeping ---------------------------------------------------------------

    async def _reserve(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> Reservation:
        try:
            return await self._reserve_waiting(messages, kwargs)
        except (BudgetExceededError, RateLimitedError) as exc:
            await self._report_refusal(exc)
            raise

    async def _report_refusal(self, exc: BudgetExceededError | RateLimitedError) -> None:
        """The analytics hook's optional ``call_refused(meta, error)``: the guard refused
        the call for good (after any wait for a slot), e.g. to count refusals by reason."""
        hook = getattr(self.analytics, "call_refused", None)
        if hook is None:
            return
        try:
            outcome = hook(self.meta, exc)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("model-call refusal hook failed")

    async def _reserve_waiting(
        self, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> Reservation:
        bound = prompt_tokens_upper_bound(messages=messages, tools=kwargs.get("tools"))
        images = image_inputs(messages)
        waited_until = time.monotonic() + self._slot_wait_s()
        outage_until = time.monotonic() + (self.store_outage_wait_s if self.meta.run_id else 0.0)
        poll = SLOT_POLL_FIRST_S
        while True:
            try:
                reservation: Reservation = await self.guard.reserve(
                    meta=self.meta,
                    model=self.price,
                    prompt_tokens_upper_bound=bound,
                    max_tokens=self.max_tokens,
                    images=images,
                )
                return reservation
            except GuardUnavailableError:
                # An accepted run outlasts a short outage of the budget store
                # (``agents.guard.outage``); an HTTP request (no run) answers 503 at once.
                left = outage_until - time.monotonic()
                if left <= 0:
                    raise
                logger.warning("budget store unreachable; the run asks again shortly")
                await self.sleep(min(STORE_OUTAGE_POLL_S, left))
            except RateLimitedError as exc:
                # A run already accepted (202) waits for its turn rather than failing.
                left = waited_until - time.monotonic()
                bucket = exc.details.get("bucket")
                if bucket == "concurrency":
                    pause = min(poll, left)
                    poll = min(poll * 2, SLOT_POLL_MAX_S)
                elif bucket == "rate":
                    pause = exc.retry_after_s
                else:
                    raise
                if left <= 0 or pause > left:
                    raise
                await self.sleep(max(pause, 0.0))

    def _slot_wait_s(self) -> float:
        return self.slot_wait_s if self.meta.run_id else 0.0

    def _attempt_record(
        self, reservation: Reservation, messages: list[BaseMessage], *, hashed: str | None
    ) -> _AttemptRecord:
        images = image_inputs(messages)
        if reservation.amount_usd <= 0:
            # Nothing is charged if a free call's holder dies.
            return _AttemptRecord(images=images, prompt_hash=hashed)
        return _AttemptRecord(
            on_generation_id=lambda generation_id: self._note_generation(
                reservation, generation_id
            ),
            images=images,
            prompt_hash=hashed,
        )

    def _note_generation(self, reservation: Reservation, generation_id: str) -> None:
        """Hand the generation id to the guard in a background task: the guard's store
        may be a Redis round trip or a database write away, and the call must not wait
        for it (the header hook runs before the SDK sees the response), nor fail with it."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._noted(reservation, generation_id))
        _noting_tasks.add(task)
        task.add_done_callback(_noting_tasks.discard)

    async def _noted(self, reservation: Reservation, generation_id: str) -> None:
        try:
            await self.guard.note_generation(reservation, generation_id)
        except Exception as exc:
            # Only an expiry of this reservation needs it; the settle carries it too.
            logger.warning(
                "could not note generation %s for reservation %s: %s",
                generation_id,
                reservation.reservation_id,
                exc,
            )

    async def _settle(
        self, reservation: Reservation, record: _AttemptRecord, *, attempt: int
    ) -> Decimal:
        """Settle and report the attempt, to the end even if the caller is cancelled
        (again) meanwhile: the cancellation is delivered once both are done."""
        work = asyncio.ensure_future(self._settle_and_report(reservation, record, attempt))
        cancelled = False
        while True:
            try:
                cost = await asyncio.shield(work)
                break
            except asyncio.CancelledError:
                if work.done():
                    raise  # the settle itself was cancelled (its loop is shutting down)
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return cost

    async def _settle_and_report(
        self, reservation: Reservation, record: _AttemptRecord, attempt: int
    ) -> Decimal:
        usage = record.usage()
        # The settle's own price of the call (the guard computes the same from the same
        # reservation and usage).
        cost = micros_to_usd(
            settled_micros(
                model=self.price, usage=usage, reserved_micros=usd_to_micros(reservation.amount_usd)
            )
        )
        # The ledger row before the store's settle. The other way round, a process killed
        # between the two left the call settled in the store with no row (8-41 of ~2,000
        # calls at a soak's worker kill); this way the store's expiry charges a killed
        # call's worst case, which is never less.
        await self._report(
            record=record,
            usage=usage,
            cost=cost,
            attempt=attempt,
            reservation=reservation,
            settle_pending=False,
        )
        try:
            settled = await self.guard.settle(reservation, usage)
        except SettleDeferredError as exc:
            logger.error("settle of %s deferred: %s", reservation.reservation_id, exc.message)
        except Exception:
            logger.exception("settling reservation %s failed", reservation.reservation_id)
        else:
            if settled != cost:
                logger.warning(
                    "reservation %s settled at %s USD, recorded at %s USD",
                    reservation.reservation_id,
                    settled,
                    cost,
                )
            return cost
        # The row keeps the settle for the sweeper (``resettle``).
        await self._report(
            record=record,
            usage=usage,
            cost=cost,
            attempt=attempt,
            reservation=reservation,
            settle_pending=True,
            pending_only=True,
        )
        return cost

    async def _report(
        self,
        *,
        record: _AttemptRecord,
        usage: CallUsage,
        cost: Decimal,
        attempt: int,
        reservation: Reservation,
        settle_pending: bool,
        pending_only: bool = False,
    ) -> None:
        """The call to the analytics hook; ``pending_only``: only mark the call's row as
        keeping a settle the store did not take (``settle_pending``), nothing counted again."""
        if self.analytics is None:
            return
        event = ModelCallEvent(
            model=self.price.model_id,
            provider=self.price.provider,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            latency_s=usage.latency_s,
            cost_usd=cost,
            is_error=usage.is_error,
            trace_id=self.meta.run_id,
            feature=self.meta.feature,
            session_id=self.meta.session_id,
            client_id=self.meta.client_id,
            attempt=attempt,
            error_type=type(record.error).__name__ if record.error is not None else None,
            reservation_id=reservation.reservation_id,
            reserved_usd=reservation.amount_usd,
            estimated=usage.unreported and reservation.amount_usd > 0,
            generation_id=usage.generation_id,
            settle_pending=settle_pending,
            reservation=reservation,
            prompt_hash=record.prompt_hash,
        )
        try:
            if pending_only:
                mark = getattr(self.analytics, "settle_pending", None)
                outcome = mark(event) if mark is not None else None
            else:
                outcome = self.analytics.model_call(event)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            # Analytics must never fail the call it describes.
            logger.exception("model-call analytics hook failed")

    def _should_retry(self, exc: BaseException, attempt: int) -> bool:
        return attempt < self.max_attempts and is_transient_upstream_error(exc)

    def _backoff_s(self, exc: BaseException, attempt: int) -> float:
        delay = self.retry_base_delay_s * (2 ** (attempt - 1))
        hinted = _retry_after_s(exc)
        if hinted is not None:
            delay = max(delay, hinted)
        return min(delay, self.retry_max_delay_s)

    def _annotate(self, message: BaseMessage, *, cost: Decimal, attempts: int) -> None:
        message.response_metadata[COST_METADATA_KEY] = float(cost)
        message.response_metadata["guard_attempts"] = attempts

    # -- async paths ---------------------------------------------------------------------

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        attempt = 0
        hashed = prompt_hash(messages)
        while True:
            attempt += 1
            reservation = await self._reserve(messages, kwargs)
            record = self._attempt_record(reservation, messages, hashed=hashed)
            token = _CURRENT_ATTEMPT.set(record)
            try:
                result = await self.inner._agenerate(messages, stop=stop, **kwargs)
                record.observe_result(result)
            except BaseException as exc:
                record.error = exc
                if not self._should_retry(exc, attempt):
                    raise
            finally:
                _CURRENT_ATTEMPT.reset(token)
                cost = await self._settle(reservation, record, attempt=attempt)
            if record.error is None:
                for generation in result.generations:
                    self._annotate(generation.message, cost=cost, attempts=attempt)
                return result
            await self.sleep(self._backoff_s(record.error, attempt))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        attempt = 0
        hashed = prompt_hash(messages)
        while True:
            attempt += 1
            reservation = await self._reserve(messages, kwargs)
            record = self._attempt_record(reservation, messages, hashed=hashed)
            yielded = False
            # Held one chunk behind so the settled cost can ride on the final chunk.
            pending: ChatGenerationChunk | None = None
            # The outer BaseChatModel reports tokens to callbacks; the inner one must not,
            # or every token would be streamed twice.
            stream = self.inner._astream(messages, stop=stop, **kwargs)
            try:
                while True:
                    # Set per step: a generator runs in whichever context resumes it.
                    token = _CURRENT_ATTEMPT.set(record)
                    try:
                        chunk = await anext(stream)
                    except StopAsyncIteration:
                        break
                    finally:
                        _CURRENT_ATTEMPT.reset(token)
                    record.observe_chunk(chunk)
                    if pending is not None:
                        yielded = True
                        yield pending
                    pending = chunk
                if self.detect_truncation and not record.finished:
                    raise TruncatedStreamError(
                        f"the stream from {self.price.model_id} ended without its finish chunk"
                    )
            except BaseException as exc:
                record.error = exc
                # Text already shown cannot be taken back, so only a silent failure retries.
                if yielded or not self._should_retry(exc, attempt):
                    raise
            finally:
                try:
                    cost = await self._settle(reservation, record, attempt=attempt)
                finally:
                    # Hang up now (not when the inner generator is collected): a provider
                    # may stop generating, and billing, once the client has gone.
                    await _aclose(stream)
            if record.error is None:
                last = pending or ChatGenerationChunk(message=AIMessageChunk(content=""))
                self._annotate(last.message, cost=cost, attempts=attempt)
                yield last
                return
            await self.sleep(self._backoff_s(record.error, attempt))

    # -- sync paths: the guard is async, so run the async path on a private loop --------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return _run_coroutine_sync(self._agenerate(messages, stop=stop, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        async def collect() -> list[ChatGenerationChunk]:
            return [chunk async for chunk in self._astream(messages, stop=stop, **kwargs)]

        yield from _run_coroutine_sync(collect())


async def _aclose(stream: Any) -> None:
    """Close the inner stream and its HTTP response (errors are only logged)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:
        logger.debug("closing the inner stream failed", exc_info=True)


def _run_coroutine_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from sync code, even under a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def runner() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=runner, name="guarded-model-sync")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["value"]
    return result


@dataclass(frozen=True, kw_only=True)
class GenerationBilling:
    """What the provider says it billed one generation."""

    generation_id: str
    cost_usd: Decimal
    input_tokens: int
    output_tokens: int


async def generation_billing(
    *, settings: ModelSettings, generation_id: str, timeout_s: float = 10.0
) -> GenerationBilling | None:
    """The billed cost of a generation, from OpenRouter's generation lookup.

    ``GET {base_url}/generation?id=<id>`` answers ``{"data": {"total_cost",
    "native_tokens_prompt", "native_tokens_completion", ...}}`` (native counts are the
    provider's own, which it bills; ``tokens_*`` are normalised). None while the
    generation is not known yet (OpenRouter records it a few seconds after the call;
    404 until then) or when the endpoint has no such lookup; network trouble raises
    ``httpx.HTTPError``.
    """
    import httpx

    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        response = await client.get(
            f"{settings.base_url.rstrip('/')}/generation",
            params={"id": generation_id},
            headers=headers,
        )
    if response.status_code != 200:
        if response.status_code >= 500:
            response.raise_for_status()
        return None
    data = (response.json() or {}).get("data") or {}
    if data.get("total_cost") is None:
        return None

    def tokens(native: str, normalised: str) -> int:
        value = data.get(native)
        return int(value if value is not None else data.get(normalised) or 0)

    return GenerationBilling(
        generation_id=generation_id,
        cost_usd=Decimal(str(data["total_cost"])),
        input_tokens=tokens("native_tokens_prompt", "tokens_prompt"),
        output_tokens=tokens("native_tokens_completion", "tokens_completion"),
    )


def _openai_chat_model_class() -> Any:
    from langchain_openai import ChatOpenAI

    class CostReportingChatOpenAI(ChatOpenAI):
        """ChatOpenAI that keeps OpenRouter's ``usage.cost`` from the final stream chunk,
        and each chunk's generation id.

        langchain-openai turns a chunk's ``usage`` into ``usage_metadata`` and drops the
        rest; the non-streaming path keeps it in ``llm_output["token_usage"]`` (and the
        id in ``llm_output["id"]``).
        """

        def _convert_chunk_to_generation_chunk(
            self,
            chunk: dict[str, Any],
            default_chunk_class: type,
            base_generation_info: dict[str, Any] | None,
        ) -> ChatGenerationChunk | None:
            generation = super()._convert_chunk_to_generation_chunk(
                chunk, default_chunk_class, base_generation_info
            )
            if generation is None:
                return None
            usage = chunk.get("usage") or {}
            extra: dict[str, Any] = {}
            if usage.get("cost") is not None:
                extra["reported_cost_usd"] = usage["cost"]
            # Every chunk carries the generation id, so a call cut off after any chunk
            # can still be looked up (OpenRouter: GET /generation?id=...).
            if isinstance(chunk.get("id"), str):
                extra[GENERATION_ID_KEY] = chunk["id"]
            if extra:
                generation.generation_info = {**(generation.generation_info or {}), **extra}
            return generation

    return CostReportingChatOpenAI


class ModelFactory:
    """Builds guarded chat models; the only place a chat model is constructed."""

    def __init__(
        self,
        *,
        settings: ModelSettings,
        guard: Guard,
        catalogue: Callable[[str], ModelPrice | None],
        analytics: ModelCallAnalytics | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._guard = guard
        self._catalogue = catalogue
        self._analytics = analytics
        self._sleep = sleep

    def price_of(self, model_id: str) -> ModelPrice:
        if model_id == OFFLINE_MODEL_ID:
            return OFFLINE_MODEL_PRICE
        price = self._catalogue(model_id)
        if price is None:
            raise UnknownModelPriceError(
                f"Model {model_id!r} has no known price, so it cannot be used.",
                details={"model": model_id},
            )
        return price

    def chat_model(self, model_id: str, *, meta: CallMeta, max_tokens: int) -> BaseChatModel:
        """The guarded model; with fallbacks configured for ``meta.feature``, a
        ``FallbackChatModel`` over the chain, each model priced and guarded on its own."""
        primary = self._guarded(self.price_of(model_id), meta=meta, max_tokens=max_tokens)
        chain = [m for m in self._settings.fallbacks_for(meta.feature) if m != model_id]
        if not chain:
            return primary
        from agents.fallbacks import FallbackChatModel

        models: list[GuardedChatModel] = [primary]
        for fallback_id in dict.fromkeys(chain):
            try:
                price = self.price_of(fallback_id)
            except UnknownModelPriceError:
                logger.warning("fallback model %s has no known price: skipped", fallback_id)
                continue
            models.append(self._guarded(price, meta=meta, max_tokens=max_tokens))
        return primary if len(models) == 1 else FallbackChatModel(models=models)

    def prices_for(self, model_id: str, *, feature: str) -> list[ModelPrice]:
        """The prices of the chain a call of ``feature`` on ``model_id`` may use (an
        approval's estimate takes the most expensive)."""
        found = [self.price_of(model_id)]
        for fallback_id in self._settings.fallbacks_for(feature):
            try:
                found.append(self.price_of(fallback_id))
            except UnknownModelPriceError:
                continue
        return found

    def _guarded(self, price: ModelPrice, *, meta: CallMeta, max_tokens: int) -> GuardedChatModel:
        inner = self._inner_model(price=price, max_tokens=max_tokens, feature=meta.feature)
        return GuardedChatModel(
            inner=inner,
            guard=self._guard,
            price=price,
            meta=meta,
            max_tokens=max_tokens,
            max_attempts=self._settings.max_attempts,
            retry_base_delay_s=self._settings.retry_base_delay_s,
            retry_max_delay_s=self._settings.retry_max_delay_s,
            analytics=self._analytics,
            sleep=self._sleep,
            slot_wait_s=self._settings.slot_wait_s,
            detect_truncation=not price.offline,
        )

    def _inner_model(self, *, price: ModelPrice, max_tokens: int, feature: str) -> BaseChatModel:
        if price.offline:
            from agents.offline import OfflineChatModel

            return OfflineChatModel(
                feature=feature,
                max_tokens=max_tokens,
                token_delay_s=self._settings.offline_token_delay_s,
            )
        if not self._settings.api_key:
            raise GuardUnavailableError(
                f"Model {price.model_id!r} needs an API key and none is configured.",
                details={"model": price.model_id},
            )
        chat_openai = _openai_chat_model_class()
        return chat_openai(
            model=price.model_id,
            base_url=self._settings.base_url,
            api_key=self._settings.api_key,
            default_headers={
                "HTTP-Referer": self._settings.app_url,
                "X-Title": self._settings.app_title,
            },
            stream_usage=True,
            max_tokens=max_tokens,
            timeout=self._settings.request_timeout_s,
            http_async_client=_http_client(
                self._settings.base_url, self._settings.request_timeout_s
            ),
            # Off: it wraps each chunk read in asyncio.wait_for, which on Python 3.11
            # swallows a cancellation that lands as a chunk arrives (the run's cancel or
            # deadline then goes unheard). The run deadline and tool timeout bound a
            # stalled stream instead.
            stream_chunk_timeout=None,
            # The guard wrapper owns retries so each attempt is reserved and settled.
            max_retries=0,
        )
