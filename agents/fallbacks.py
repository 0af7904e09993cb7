"""A chain of chat models for one call: the primary, then its fallbacks, in order.

Each model of the chain is a ``GuardedChatModel``: its own price, reservation, retries
and ledger row. When one fails with an upstream error worth another try — 429, 5xx, a
timeout, a stream cut off before its finish chunk (``TruncatedStreamError``) — after its own
retries, the next model is tried. Before any text was streamed the switch is invisible;
after some was, the chain tells the run to throw the shown text away (a ``message.reset``
custom event on the graph's stream, when there is one) and marks the final chunk with how
many characters of the merged content belong to the abandoned attempt
(``FALLBACK_RESET_KEY``), so the node keeps only the answer that completed
(``strip_abandoned``). An attempt that already streamed a tool call is not replayed: the
error stands. The final chunk names the model that answered (``ANSWERED_BY_KEY``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict

from agents.models import GuardedChatModel, is_transient_upstream_error

logger = logging.getLogger(__name__)

# response_metadata keys on the final message.
ANSWERED_BY_KEY = "answered_by"
FALLBACK_RESET_KEY = "fallback_reset_chars"


def _stream_writer() -> Any:
    """The graph's custom-stream writer when this call runs inside a node, else None."""
    try:
        from langgraph.config import get_stream_writer

        return get_stream_writer()
    except Exception:
        return None


class FallbackChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    models: list[GuardedChatModel]

    @property
    def _llm_type(self) -> str:
        return "fallback-chain"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"models": [m.price.model_id for m in self.models]}

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # The same OpenAI-format kwargs every model of the chain takes.
        return GuardedChatModel.bind_tools(self, tools, tool_choice=tool_choice, **kwargs)  # type: ignore[arg-type]

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        for index, model in enumerate(self.models):
            try:
                result = await model._agenerate(messages, stop=stop, **kwargs)
            except Exception as exc:
                if index == len(self.models) - 1 or not is_transient_upstream_error(exc):
                    raise
                self._log_switch(index, exc)
                continue
            for generation in result.generations:
                generation.message.response_metadata[ANSWERED_BY_KEY] = model.price.model_id
            return result
        raise AssertionError("unreachable: the chain has at least one model")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        abandoned_chars = 0
        for index, model in enumerate(self.models):
            shown = 0
            called_tool = False
            last: ChatGenerationChunk | None = None
            try:
                async for chunk in model._astream(messages, stop=stop, **kwargs):
                    if last is not None:
                        yield last
                    if isinstance(chunk.message, AIMessageChunk) and chunk.message.tool_call_chunks:
                        called_tool = True
                    content = chunk.message.content
                    shown += len(content) if isinstance(content, str) else 0
                    last = chunk
            except Exception as exc:
                final = index == len(self.models) - 1
                if final or called_tool or not is_transient_upstream_error(exc):
                    raise
                self._log_switch(index, exc)
                if last is not None:
                    yield last  # (what was shown of it is dropped below)
                if shown:
                    abandoned_chars += shown
                    writer = _stream_writer()
                    if writer is not None:
                        writer(
                            {
                                "type": "message.reset",
                                "reason": f"{model.price.model_id} failed: {type(exc).__name__}",
                                "next_model": self.models[index + 1].price.model_id,
                            }
                        )
                continue
            final_chunk = last or ChatGenerationChunk(message=AIMessageChunk(content=""))
            metadata = final_chunk.message.response_metadata
            metadata[ANSWERED_BY_KEY] = model.price.model_id
            if abandoned_chars:
                metadata[FALLBACK_RESET_KEY] = abandoned_chars
            yield final_chunk
            return

    def _log_switch(self, index: int, exc: BaseException) -> None:
        logger.warning(
            "model %s failed (%s): falling back to %s",
            self.models[index].price.model_id,
            type(exc).__name__,
            self.models[index + 1].price.model_id,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("the fallback chain is async only")

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("the fallback chain is async only")


def strip_abandoned(message: AIMessage) -> AIMessage:
    """The message without the text of an attempt the chain abandoned mid-stream."""
    chars = message.response_metadata.get(FALLBACK_RESET_KEY)
    if not chars or not isinstance(message.content, str):
        return message
    return message.model_copy(update={"content": message.content[int(chars) :]})
