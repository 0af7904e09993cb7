"""Run an agent tool for the REST API: the same function the agent calls, so the two can
never disagree; the result is saved to the client's history. A chat run's tool results
are recorded there too (``history_record_chat``), once per call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic
from asgiref.sync import async_to_sync

from agents import AgentDeps, Context
from agents.tools import TOOLS_BY_NAME, ToolContext, ToolFailure
from backend.channels.agent_data import BackendAgentData
from backend.clients.identity import Identity
from backend.core.errors import (
    ApplicationError,
    NotFoundError,
    UpstreamError,
    UpstreamUnavailableError,
    ValidationError,
)
from backend.guard.entry import check_call_allowed
from backend.llm.selectors import default_model_id
from backend.model_calls.factory import load_prices, model_factory
from backend.moderation.services import moderate_tool_args
from backend.tools.models import HistoryEntry

# Tools that call a model of their own: their entry point goes through the guard first.
MODEL_TOOLS = frozenset({"content_ideas", "keyword_research", "hashtags", "viral_score", "factoid"})
TOOL_MAX_TOKENS = 1024
# Text arguments longer than this are refused at the door (a script fits; a book doesn't).
MAX_TEXT_ARG_CHARS = 20_000


def _check_text_args(raw_args: dict[str, Any]) -> None:
    """Empty or over-long text arguments are 400s naming the field, before any work."""
    for field, value in raw_args.items():
        if isinstance(value, str):
            if not value.strip():
                raise ValidationError.for_field(field, "must not be empty")
            if len(value) > MAX_TEXT_ARG_CHARS:
                raise ValidationError.for_field(
                    field, f"must be at most {MAX_TEXT_ARG_CHARS} characters"
                )


def _validation_error(exc: pydantic.ValidationError) -> ValidationError:
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, []).append(error["msg"])
    first, messages = next(iter(fields.items()))
    return ValidationError(f"{first}: {messages[0]}", details={"fields": fields})


def _from_tool_failure(exc: ToolFailure) -> ApplicationError:
    if exc.code == "NOT_FOUND":
        return NotFoundError(exc.message)
    if exc.code == "VALIDATION_ERROR":
        return ValidationError(exc.message)
    if exc.code == "UPSTREAM_UNAVAILABLE":
        return UpstreamUnavailableError(exc.message)
    return UpstreamError(exc.message, details={"code": exc.code})


def tool_run(
    *, name: str, raw_args: dict[str, Any], identity: Identity, model_id: str | None = None
) -> dict[str, Any]:
    tool = TOOLS_BY_NAME[name]
    _check_text_args(raw_args)
    try:
        tool.args_schema.model_validate(raw_args)
    except pydantic.ValidationError as exc:
        raise _validation_error(exc) from None
    moderate_tool_args(raw_args, identity=identity, feature=f"tool:{name}")
    model_id = model_id or default_model_id()
    if name in MODEL_TOOLS:
        check_call_allowed(
            identity=identity,
            model_id=model_id,
            feature=f"tool:{name}",
            prompt_text=json.dumps(raw_args),
            max_tokens=TOOL_MAX_TOKENS,
        )
    prices = load_prices([model_id])

    async def run() -> dict[str, Any]:
        context = Context(
            deps=AgentDeps(
                models=model_factory(prices=prices),
                data=BackendAgentData(client_id=identity.client_id, model_id=model_id),
            ),
            model_id=model_id,
            max_tokens=TOOL_MAX_TOKENS,
            client_id=identity.client_id,
            plan=identity.plan,
            ip_hash=identity.ip_hash,
            api_key_id=identity.api_key_id,
        )
        ctx = ToolContext(call_id=f"api-{uuid.uuid4().hex[:12]}", context=context)
        output = await tool.invoke(raw_args=raw_args, ctx=ctx)
        return output.model_dump(mode="json")

    try:
        result: dict[str, Any] = async_to_sync(run)()
    except ToolFailure as exc:
        raise _from_tool_failure(exc) from None
    HistoryEntry.objects.create(
        client_id=identity.client_id,
        tool=name,
        input=raw_args,
        result=result,
        source=HistoryEntry.Source.API,
    )
    return result


def history_record_chat(
    *,
    client_id: str,
    run_id: str,
    session_id: str | None,
    results: Iterable[Mapping[str, Any]],
) -> int:
    """Record a chat run's successful tool calls in one statement: ``agents.state.
    ToolResult``s, or ``tool.completed`` event data with the call's ``args`` (failed calls
    are skipped). A call already recorded for the run (a resumed attempt reporting it
    again) is left as it is. Returns how many successful calls were offered."""
    entries = [
        HistoryEntry(
            client_id=client_id,
            tool=str(result["name"]),
            input=dict(result.get("args") or {}),
            result=result["output"],
            source=HistoryEntry.Source.CHAT,
            run_id=run_id,
            session_id=session_id,
            call_id=str(result["call_id"]),
        )
        for result in results
        if result.get("ok", True)
        and isinstance(result.get("output"), dict)
        and result.get("call_id")
    ]
    if entries:
        HistoryEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return len(entries)
