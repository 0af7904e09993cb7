"""A chat run's long tool calls (``OFFLOADED_TOOLS``, the ones that call a model), each as
its own Celery task on the ``long`` queue; how and why is in the README ("Long tool calls").

The tool task (``tool_call_execute``) runs the call with the run's own context, appends its
progress to the run's log and stores its outcome in Redis once per call (a claim keeps two
deliveries apart); the run (``CeleryToolExecutor``) waits for that outcome on its loop,
so its deadline and a cancel interrupt the wait. Runs wait for tool tasks, never the
reverse. Embedded, and for the fast tools, calls run inline.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import weakref
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
import structlog
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agents import ModelCallEvent
from agents.guard import GuardError, ModelPrice
from agents.tools import TOOLS_BY_NAME, AgentTool, ToolContext, ToolFailure
from agents.tools.base import ModelUsage, run_inline
from backend.chat.agent_context import chat_context
from backend.core.db import released
from backend.core.task_runner import enqueue, uses_celery
from backend.model_calls.factory import load_prices
from backend.model_calls.usage import emit_usage
from backend.runs.drivers import RunContext
from backend.runs.emitter import RunEmitter
from backend.runs.models import Run
from backend.thumbnails.services import uses_network_provider

logger = structlog.get_logger(__name__)

# The tools that call the model; the others are fast arithmetic over stored data and
# stay inline.
OFFLOADED_TOOLS = frozenset({"content_ideas", "keyword_research", "hashtags", "factoid"})
# How long the run waits in one BLPOP before it reads the result key again.
WAIT_SLICE_S = 1.0
# How often a tool task waiting for another delivery's claim looks again.
CLAIM_POLL_S = 0.2
# A call nobody has claimed for this long (its task failed on a Redis restart, or the broker
# lost it) is sent again; a duplicate of a task still queued finds the result and returns.
RESEND_AFTER_S = 60.0


def tool_task_id(*, run_id: str, call_id: str) -> str:
    """The Celery task id of a run's tool call: the same for every attempt and delivery."""
    return str(uuid.uuid5(uuid.UUID(run_id), f"tool:{call_id}"))


def offloads(*, tool_name: str, price: ModelPrice | None) -> bool:
    """Whether this call goes to its own task (see ``TOOL_OFFLOAD`` in sample.env)."""
    mode = settings.ENV.TOOL_OFFLOAD
    if mode == "never" or not uses_celery():
        return False
    if tool_name == "thumbnail":
        # Its model is the image chain's, not the run's: off the run's worker when an image
        # may come over the network; the offline card is drawn inline.
        return mode == "always" or uses_network_provider()
    if tool_name not in OFFLOADED_TOOLS:
        return False
    return mode == "always" or (price is not None and not price.offline)


# --- The stored result -------------------------------------------------------------------

_CLAIM_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_CLAIM_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ToolCallStore:
    """Results, claims and completion notices of tool calls, in Redis (shared by every
    process); clients are per event loop, as redis.asyncio requires."""

    _clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, *, run_id: str, call_id: str) -> None:
        prefix = f"toolcall:{{{run_id}}}:{call_id}"
        self.result_key = f"{prefix}:result"
        self.claim_key = f"{prefix}:claim"
        self.done_key = f"{prefix}:done"
        self.ttl_s = settings.RUN_EVENT_LOG_RETENTION_S

    @classmethod
    def _client(cls) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = cls._clients.get(loop)
        if client is None:
            assert settings.REDIS_URL, "offloaded tool calls need Redis"
            client = cls._clients[loop] = aioredis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2
            )
        return client

    async def result(self) -> dict[str, Any] | None:
        raw = await self._client().get(self.result_key)
        return json.loads(raw) if raw else None

    async def put(self, record: dict[str, Any]) -> None:
        """Store the outcome, then wake the waiting run."""
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.set(self.result_key, json.dumps(record, default=str), ex=self.ttl_s)
            pipe.rpush(self.done_key, "1")
            pipe.expire(self.done_key, self.ttl_s)
            await pipe.execute()

    async def wait(self, *, resend: Callable[[], Awaitable[None]] | None = None) -> dict[str, Any]:
        """The stored outcome, waiting for it on the loop (cancellable at any point).

        Redis trouble is waited out (the run's deadline bounds the wait); with ``resend``,
        a call unclaimed for ``RESEND_AFTER_S`` is sent again.
        """
        client = self._client()
        loop = asyncio.get_running_loop()
        unclaimed_since = loop.time()
        while True:
            try:
                record = await self.result()
                if record is not None:
                    return record
                if await client.exists(self.claim_key):
                    unclaimed_since = loop.time()
                elif resend is not None and loop.time() - unclaimed_since >= RESEND_AFTER_S:
                    logger.warning("tool_call_resent", key=self.result_key)
                    await resend()
                    unclaimed_since = loop.time()
                await client.blpop([self.done_key], timeout=WAIT_SLICE_S)
            except (RedisConnectionError, RedisTimeoutError):
                logger.warning("tool_call_wait_redis_unavailable", key=self.result_key)
                await asyncio.sleep(WAIT_SLICE_S)

    async def claim(self, owner: str, *, ttl_s: float) -> bool:
        return bool(await self._client().set(self.claim_key, owner, nx=True, px=_ms(ttl_s)))

    async def renew(self, owner: str, *, ttl_s: float) -> bool:
        renewed = await self._client().eval(_CLAIM_RENEW, 1, self.claim_key, owner, _ms(ttl_s))  # type: ignore[misc]
        return bool(renewed)

    async def release(self, owner: str) -> None:
        await self._client().eval(_CLAIM_RELEASE, 1, self.claim_key, owner)  # type: ignore[misc]


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


# --- The run's side ----------------------------------------------------------------------


class CeleryToolExecutor:
    """``agents.ToolExecutor`` for a chat run on a Celery worker: long tools go to
    ``tool_execute``; the rest run inline."""

    def __init__(self, run_ctx: RunContext, *, price: ModelPrice | None) -> None:
        self._run = run_ctx
        self._price = price

    async def run_tool(
        self, tool: AgentTool[Any, Any], *, args: dict[str, Any], ctx: ToolContext
    ) -> dict[str, Any]:
        if not offloads(tool_name=tool.name, price=self._price):
            return await run_inline(tool, args=args, ctx=ctx)
        run_id = self._run.run_id
        store = ToolCallStore(run_id=run_id, call_id=ctx.call_id)
        record = await store.result()
        if record is None:
            # Every attempt enqueues: a duplicate of a task still queued or running finds
            # the claim or the result and does not run the call again.
            async def send() -> None:
                await asyncio.to_thread(
                    _enqueue, run_id=run_id, call_id=ctx.call_id, name=tool.name, args=args,
                    attempt=self._run.run.attempt,
                )  # fmt: skip

            await send()
            record = await store.wait(resend=send)
        return await self._apply(record, ctx=ctx)

    async def _apply(self, record: dict[str, Any], *, ctx: ToolContext) -> dict[str, Any]:
        meter = record.get("meter") or {}
        ctx.usage.input_tokens += int(meter.get("input_tokens", 0))
        ctx.usage.output_tokens += int(meter.get("output_tokens", 0))
        ctx.usage.cost_usd += float(meter.get("cost_usd", 0.0))
        for call in record.get("usage", []):
            await emit_usage(
                self._run,
                model=call["model"],
                input_tokens=int(call["input_tokens"]),
                output_tokens=int(call["output_tokens"]),
                cost_usd=Decimal(str(call["cost_usd"])),
            )
        if record["ok"]:
            output: dict[str, Any] = record["output"]
            return output
        error = record["error"]
        raise ToolFailure(error["message"], code=error["code"])


def _enqueue(*, run_id: str, call_id: str, name: str, args: dict[str, Any], attempt: int) -> None:
    from backend.chat.tasks import tool_execute  # the task module imports this one

    enqueue(
        tool_execute,
        run_id,
        call_id,
        name,
        args,
        attempt,
        queue="long",
        task_id=tool_task_id(run_id=run_id, call_id=call_id),
    )


def tool_executor_for(
    run_ctx: RunContext, *, price: ModelPrice | None
) -> CeleryToolExecutor | None:
    """The run's tool executor: ``None`` (everything inline) unless calls may offload."""
    if settings.ENV.TOOL_OFFLOAD == "never" or not uses_celery():
        return None
    return CeleryToolExecutor(run_ctx, price=price)


# --- The tool task's side ----------------------------------------------------------------


class _ProgressRelay:
    """The tool's (synchronous) progress reports, appended to the run's log in order."""

    def __init__(self, emit: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> None:
        self._emit = emit
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._drain())

    def report(self, data: dict[str, Any]) -> None:
        self._queue.put_nowait(data)

    async def _drain(self) -> None:
        while (data := await self._queue.get()) is not None:
            try:
                await self._emit("tool.progress", data)
            except Exception:
                logger.warning("tool_progress_emit_failed", exc_info=True)

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._task


def _run_is_live(run_id: str) -> bool:
    return Run.objects.filter(
        pk=run_id, cancel_requested=False, status__in=(Run.Status.QUEUED, Run.Status.RUNNING)
    ).exists()


def _load_run(run_id: str) -> Run | None:
    return Run.objects.filter(pk=run_id).first()


def _error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "output": None, "error": {"code": code, "message": message}}


async def tool_call_execute(
    *, run_id: str, call_id: str, name: str, args: dict[str, Any], attempt: int
) -> None:
    """Run one offloaded tool call of a run and store its outcome (once per call)."""
    store = ToolCallStore(run_id=run_id, call_id=call_id)
    if await store.result() is not None:
        return
    run = await released(_load_run)(run_id)
    if run is None:
        return
    log = logger.bind(run_id=run_id, call_id=call_id, tool=name)
    if not await released(_run_is_live)(run_id):
        log.info("tool_call_skipped_run_ended")
        await store.put(_error("TOOL_CANCELLED", f"{name} was cancelled before it finished."))
        return
    env = settings.ENV
    owner = uuid.uuid4().hex
    while not await store.claim(owner, ttl_s=env.RUN_LEASE_S):
        # Another delivery runs it: wait for its result, or for its claim to expire.
        if await store.result() is not None:
            return
        await asyncio.sleep(CLAIM_POLL_S)
    try:
        if await store.result() is not None:
            return  # finished between our first look and the claim
        record = await _run_claimed(
            run, store=store, owner=owner, call_id=call_id, name=name, args=args,
            attempt=attempt, log=log,
        )  # fmt: skip
        if record is not None:
            await store.put(record)
    finally:
        await store.release(owner)


async def _run_claimed(
    run: Run,
    *,
    store: ToolCallStore,
    owner: str,
    call_id: str,
    name: str,
    args: dict[str, Any],
    attempt: int,
    log: Any,
) -> dict[str, Any] | None:
    """The call's outcome; ``None`` when our claim was lost (another delivery owns it)."""
    env = settings.ENV
    run_id = str(run.id)
    tool = TOOLS_BY_NAME.get(name)
    if tool is None:
        return _error("VALIDATION_ERROR", f"There is no tool named {name!r}.")
    prices = await released(load_prices)([run.model])
    usage: list[dict[str, Any]] = []

    async def collect(event: ModelCallEvent) -> None:
        usage.append(
            {
                "model": event.model,
                "input_tokens": event.input_tokens,
                "output_tokens": event.output_tokens,
                "cost_usd": str(event.cost_usd),
            }
        )

    emitter = RunEmitter(run_id=run_id, attempt=attempt)
    # Usage goes back to the run with the result; soft-limit warnings straight to its log.
    context = chat_context(
        run,
        prices=prices,
        usage_sink=collect,
        warning_sink=lambda data: emitter.aemit("guard.warning", data),
    )
    relay = _ProgressRelay(emitter.aemit)
    meter = ModelUsage()

    def report(done: int, total: int | None, message: str) -> None:
        relay.report({"call_id": call_id, "done": done, "total": total, "message": message})

    ctx = ToolContext(call_id=call_id, context=context, report_progress=report, usage=meter)
    timeout_s = tool.timeout_for(context)
    work = asyncio.create_task(
        asyncio.wait_for(run_inline(tool, args=args, ctx=ctx), timeout=timeout_s)
    )
    stopped: dict[str, str] = {}

    async def watch() -> None:
        """Keep our claim alive; stop the call when the run was cancelled or ended."""
        while True:
            await asyncio.sleep(env.RUN_HEARTBEAT_S)
            renewed = await store.renew(owner, ttl_s=env.RUN_LEASE_S)
            live = await released(_run_is_live)(run_id)
            if not live or not renewed:
                stopped["reason"] = "run ended" if not live else "claim lost"
                work.cancel()
                return

    watcher = asyncio.create_task(watch())
    started = asyncio.get_running_loop().time()
    record: dict[str, Any]
    try:
        output = await work
        record = {"ok": True, "output": output, "error": None}
    except TimeoutError:
        record = _error("TOOL_TIMEOUT", f"{name} took longer than {timeout_s:g} s.")
    except asyncio.CancelledError:
        if "reason" not in stopped:
            raise  # the worker is shutting down: the message is redelivered (acks_late)
        if stopped["reason"] == "claim lost":
            log.warning("tool_call_claim_lost")
            return None
        record = _error("TOOL_CANCELLED", f"{name} was cancelled before it finished.")
    except ToolFailure as exc:
        record = _error(exc.code, exc.message)
    except GuardError as exc:
        record = _error(exc.code, exc.message)
    except Exception as exc:
        record = _error("TOOL_ERROR", f"{name} failed: {type(exc).__name__}: {exc}")
    finally:
        watcher.cancel()
        await relay.close()
    log.info(
        "tool_call_finished",
        ok=record["ok"],
        duration_ms=round((asyncio.get_running_loop().time() - started) * 1000),
        stopped=stopped.get("reason"),
    )
    record["usage"] = usage
    record["meter"] = {
        "input_tokens": meter.input_tokens,
        "output_tokens": meter.output_tokens,
        "cost_usd": meter.cost_usd,
    }
    return record
