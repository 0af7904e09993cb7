"""What a tool is: typed arguments, a docstring the model reads, a typed output.

Tools are plain async functions ``(args, ctx) -> output``. ``ctx`` carries what the
model must not see: the run's ``Context`` (and through it the request-scoped deps), a
progress reporter and a meter for the tool's own model calls.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from agents.context import Context
from agents.guard.interface import GuardError
from agents.models import COST_METADATA_KEY

ArgsT = TypeVar("ArgsT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)

ProgressReporter = Callable[[int, int | None, str], None]


class ToolFailure(Exception):
    """A tool could not do its job; ``code`` ends up in the error ToolMessage."""

    def __init__(self, message: str, *, code: str = "TOOL_ERROR") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ModelUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, message: AIMessage) -> None:
        usage: dict[str, Any] = dict(message.usage_metadata or {})
        self.input_tokens += int(usage.get("input_tokens", 0))
        self.output_tokens += int(usage.get("output_tokens", 0))
        self.cost_usd += float(message.response_metadata.get(COST_METADATA_KEY, 0.0))


@dataclass(kw_only=True)
class ToolContext:
    call_id: str
    context: Context
    report_progress: ProgressReporter = lambda done, total, message: None
    usage: ModelUsage = field(default_factory=ModelUsage)

    def progress(self, *, done: int, total: int | None, message: str) -> None:
        self.report_progress(done, total, message)

    async def ask_model_json(self, *, tool_name: str, system: str, request: str) -> dict[str, Any]:
        """Ask the tool model for a JSON object; the call goes through the guarded factory."""
        model = self.context.chat_model(feature=f"tool:{tool_name}", for_tool=True)
        # Tool-internal text is not part of the answer; "nostream" keeps it out of the
        # graph's token stream.
        reply = await model.ainvoke(
            [SystemMessage(system), HumanMessage(request)], config={"tags": ["nostream"]}
        )
        if isinstance(reply, AIMessage):
            self.usage.add(reply)
        return parse_json_object(reply.text)

    async def try_model_json(
        self, *, tool_name: str, system: str, request: str
    ) -> tuple[dict[str, Any] | None, str | None]:
        """``ask_model_json`` for an optional enrichment: ``(reply, None)``, or
        ``(None, reason)`` when the model failed, was refused by the guard or sent no
        JSON object, so the tool can go on with what it measured."""
        try:
            reply = await self.ask_model_json(tool_name=tool_name, system=system, request=request)
        except ToolFailure as exc:
            return None, exc.message
        except GuardError as exc:
            return None, f"the model call was refused: {exc.code}: {exc.message}"
        except Exception as exc:  # an upstream failure after the factory's own retries
            return None, f"the model call failed: {type(exc).__name__}"
        return reply, None


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model reply (models like to wrap JSON in prose/fences)."""
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        raise ToolFailure("The model did not return JSON.", code="UPSTREAM_ERROR")
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ToolFailure(f"The model returned invalid JSON: {exc}", code="UPSTREAM_ERROR") from exc
    if not isinstance(value, dict):
        raise ToolFailure("The model did not return a JSON object.", code="UPSTREAM_ERROR")
    return value


def validate_model_output(schema: type[OutputT], value: dict[str, Any]) -> OutputT:
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        raise ToolFailure(
            f"The model's reply did not match the expected shape: {exc.error_count()} errors.",
            code="UPSTREAM_ERROR",
        ) from exc


@dataclass(frozen=True, kw_only=True)
class ToolCost:
    """What one call of a tool may spend, for an approval's estimate before it runs:
    model calls of its own (each priced at the guard's worst case) and whether it searches
    YouTube (quota units; how many searches is the data layer's to say)."""

    model_calls: int = 0
    youtube_search: bool = False
    # The argument that says how many images the call makes (each may be a paid image).
    images_arg: str | None = None


@dataclass(frozen=True)
class AgentTool(Generic[ArgsT, OutputT]):
    name: str
    description: str
    args_schema: type[ArgsT]
    output_schema: type[OutputT]
    run: Callable[[ArgsT, ToolContext], Awaitable[OutputT]]
    cost: ToolCost = ToolCost()
    # Its own bound when the run's ``tool_timeout_s`` is too short for it; None: the run's.
    timeout_s: float | None = None

    def images(self, args: dict[str, Any]) -> int:
        """How many images a call with ``args`` makes (the argument's default when absent;
        the largest the schema allows when the arguments are invalid)."""
        name = self.cost.images_arg
        if name is None:
            return 0
        try:
            return int(getattr(self.args_schema.model_validate(args), name))
        except ValidationError:
            field_info = self.args_schema.model_fields[name]
            bounds = [m.le for m in field_info.metadata if getattr(m, "le", None) is not None]
            return int(bounds[0]) if bounds else 1

    def timeout_for(self, context: Context) -> float:
        """How long one call may take in ``context``: the longer of the two bounds."""
        return max(self.timeout_s or 0.0, context.tool_timeout_s)

    def model_schema(self) -> dict[str, Any]:
        """The OpenAI function schema the model sees."""
        parameters = self.args_schema.model_json_schema()
        parameters.pop("title", None)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }

    def validate_args(self, raw_args: dict[str, Any]) -> dict[str, Any]:
        """``raw_args`` checked against the tool's schema, as JSON; ``ToolFailure``
        (``VALIDATION_ERROR``) naming the fields otherwise."""
        try:
            return self.args_schema.model_validate(raw_args).model_dump(mode="json")
        except ValidationError as exc:
            raise self._invalid(exc) from exc

    def _invalid(self, exc: ValidationError) -> ToolFailure:
        """One readable line per field (for the model and for the creator editing them):
        ``Invalid arguments for hashtags: count: Input should be less than or equal to 30``."""
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        message = f"Invalid arguments for {self.name}: {problems}"
        return ToolFailure(message, code="VALIDATION_ERROR")

    async def invoke(self, *, raw_args: dict[str, Any], ctx: ToolContext) -> OutputT:
        try:
            args = self.args_schema.model_validate(raw_args)
        except ValidationError as exc:
            raise self._invalid(exc) from exc
        return await self.run(args, ctx)


async def run_inline(
    tool: AgentTool[Any, Any], *, args: dict[str, Any], ctx: ToolContext
) -> dict[str, Any]:
    """Run a tool call here and now; its output as JSON (what ``ToolExecutor`` returns)."""
    output = await tool.invoke(raw_args=args, ctx=ctx)
    dumped: dict[str, Any] = output.model_dump(mode="json")
    return dumped


def agent_tool(
    *,
    args: type[ArgsT],
    output: type[OutputT],
    cost: ToolCost | None = None,
    timeout_s: float | None = None,
) -> Callable[[Callable[[ArgsT, ToolContext], Awaitable[OutputT]]], AgentTool[ArgsT, OutputT]]:
    """Turn ``async def name(args, ctx) -> Output`` into an ``AgentTool``; its docstring is the
    description the model reads."""

    def wrap(
        function: Callable[[ArgsT, ToolContext], Awaitable[OutputT]],
    ) -> AgentTool[ArgsT, OutputT]:
        description = inspect.cleandoc(function.__doc__ or "")
        if not description:
            raise ValueError(f"tool {function.__name__} needs a docstring: the model reads it")
        return AgentTool(
            name=function.__name__,
            description=description,
            args_schema=args,
            output_schema=output,
            run=function,
            cost=cost or ToolCost(),
            timeout_s=timeout_s,
        )

    return wrap
