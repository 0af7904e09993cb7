"""Per-run settings and request-scoped dependencies, read by nodes through ``Runtime[Context]``.

Nothing in the graph reads ``os.environ`` or module globals: whoever starts a run (the
backend's worker, the CLI, a test) builds a ``Context`` and passes it as ``context=``.
``deps`` never reaches the model; tools receive it through their ``ToolContext``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.language_models import BaseChatModel

from agents.guard.interface import CallMeta

if TYPE_CHECKING:
    from agents.tools.base import AgentTool, ToolContext
    from agents.videos import Video
    from agents.workspace import Workspace


class ChatModelSource(Protocol):
    """What nodes and tools need from ``agents.models.ModelFactory``."""

    def chat_model(self, model_id: str, *, meta: CallMeta, max_tokens: int) -> BaseChatModel: ...


@dataclass(frozen=True, kw_only=True)
class SavedFactoid:
    factoid_id: str
    topic: str
    text: str


@dataclass(frozen=True, kw_only=True)
class SavedThumbnail:
    """One thumbnail concept, made and kept for the client (its image is theirs to fetch
    by id; URLs are signed when read, so none is stored here)."""

    thumbnail_id: str
    provider: str  # "replicate" | "pollinations" | "offline"
    model: str
    offline: bool
    width: int
    height: int
    cost_usd: float


class AgentData(Protocol):
    """Data access the tools need; the backend implements it over its database."""

    async def videos_for_channel(self, channel_id: str) -> list[Video]:
        """A channel's uploads (any order); empty when the channel is unknown."""
        ...

    async def workspace(self) -> Workspace:
        """The client's channels with their roles (own first), bounded; read once per run."""
        ...

    async def corpus_videos(self, query: str) -> list[Video]:
        """Videos from the stored corpus relevant to ``query`` (may be empty)."""
        ...

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        """Persist a generated factoid, private to the client (it is built from their own
        data, so it never goes to the public feed)."""
        ...

    async def make_thumbnail(
        self, *, meta: CallMeta, prompt: str, title: str, seed: int
    ) -> SavedThumbnail:
        """Make one thumbnail concept through the provider chain and keep it for the client;
        a paid image is reserved and settled with the guard under ``meta`` (``GuardError``
        when it does not fit the budgets)."""
        ...


class ToolExecutor(Protocol):
    """Where a tool call's body runs. The default (``None`` in ``AgentDeps``) runs it right
    here, in the graph's ``tools`` node; the backend supplies one that sends slow tools to
    their own worker task. Either way the node keeps the events, the timeout and the error
    handling, so a tool behaves the same wherever it ran."""

    async def run_tool(
        self, tool: AgentTool[Any, Any], *, args: dict[str, Any], ctx: ToolContext
    ) -> dict[str, Any]:
        """The tool's output as JSON; raises ``ToolFailure``/``GuardError`` like the tool.
        Progress goes to ``ctx.progress``, the tool's own model usage to ``ctx.usage``."""
        ...


# The name an approval of a model call goes by (beside the tools' names).
MODEL_CALL = "model_call"


class ApprovalPolicy(Protocol):
    """Which steps wait for the creator's approval before they run: the graph's ``approve``
    node asks about each planned tool call, ``plan`` and ``respond`` about their own model
    call (``None`` in ``AgentDeps``: nothing waits). Each answer is what to ask, as JSON
    (``reason`` and ``estimate``: ``{model, worst_case_usd, youtube_units}``), or ``None``
    to go on without asking. Asked again when a resumed node runs again: the answer must
    not depend on anything the step itself changes."""

    async def check_tool(
        self, tool: AgentTool[Any, Any], *, args: dict[str, Any], meta: CallMeta
    ) -> dict[str, Any] | None: ...

    async def check_model(
        self, *, meta: CallMeta, prompt_tokens: int, max_tokens: int
    ) -> dict[str, Any] | None:
        """``prompt_tokens``: the guard's own upper bound for the request about to be sent."""
        ...


@dataclass(frozen=True, kw_only=True)
class AgentDeps:
    """Request-scoped collaborators, injected per run and hidden from the model."""

    models: ChatModelSource
    data: AgentData
    # Injected so date-relative tools (upload streaks) are reproducible in tests.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # None: every tool runs inline in the graph's ``tools`` node.
    tool_executor: ToolExecutor | None = None
    # None: no call waits for approval.
    approvals: ApprovalPolicy | None = None


@dataclass(kw_only=True)
class Context:
    """Settings of one run."""

    deps: AgentDeps = field(repr=False)
    model_id: str = "offline"
    # Model for the tools' own calls (ideas, viral assessment, factoids); None = model_id.
    tool_model_id: str | None = None
    # Plan→tools round trips before the agent must answer with what it has.
    max_steps: int = 6
    max_tokens: int = 1024
    # Estimated prompt tokens the history sent to the model may use (see agents.trimming).
    history_token_budget: int = 6000
    tool_timeout_s: float = 30.0
    client_id: str = "anonymous"
    plan: str = "anonymous"
    session_id: str | None = None
    run_id: str | None = None
    ip_hash: str | None = None
    api_key_id: str | None = None

    def call_meta(self, *, feature: str) -> CallMeta:
        return CallMeta(
            client_id=self.client_id,
            feature=feature,
            plan=self.plan,
            run_id=self.run_id,
            session_id=self.session_id,
            ip_hash=self.ip_hash,
            api_key_id=self.api_key_id,
        )

    def chat_model(self, *, feature: str, for_tool: bool = False) -> BaseChatModel:
        model_id = (self.tool_model_id or self.model_id) if for_tool else self.model_id
        return self.deps.models.chat_model(
            model_id, meta=self.call_meta(feature=feature), max_tokens=self.max_tokens
        )
