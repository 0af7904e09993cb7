"""The offline model: a deterministic, network-free chat model with tool calling.

It is the default when no API key is configured. It plans by reading the latest request
(``agents.offline_planner``), writes answers from tool results with templates
(``agents.offline_writer``) and labels every response ``{"offline": True}``. It also
serves the tools' own JSON requests, recognised by the feature it was built for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.offline_planner import GREETING, THANKS, plan_calls
from agents.offline_writer import (
    TOOL_REPLIES,
    answer_from_tool_results,
    greeting_answer,
    thanks_answer,
    unknown_answer,
)
from agents.prompts import WORKSPACE_LABEL

OFFLINE_METADATA = {"offline": True, "model_name": "offline", "model_provider": "offline"}


def approximate_tokens(text: str) -> int:
    """About four characters per token, the usual rule of thumb for English."""
    return math.ceil(len(text) / 4) if text else 0


def _workspace(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The creator's channels as the system prompt lists them (one JSON object a line in
    the workspace's quoted-data block): what a real model reads, read the same way."""
    for message in messages:
        if not isinstance(message, SystemMessage) or WORKSPACE_LABEL not in message.text:
            continue
        block = message.text.split(f"<<<QUOTED DATA ({WORKSPACE_LABEL}", 1)[1]
        channels = []
        for line in block.split("QUOTED DATA>>>", 1)[0].splitlines()[1:]:
            try:
                value = json.loads(line.removeprefix("- "))
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict) and value.get("channel"):
                channels.append(value)
        return channels
    return []


def _latest_request(messages: Sequence[BaseMessage]) -> tuple[str, list[ToolMessage]]:
    """The newest human message and the tool results that came after it."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            results = [m for m in messages[index + 1 :] if isinstance(m, ToolMessage)]
            return messages[index].text, results
    return "", []


class OfflineChatModel(BaseChatModel):
    feature: str = "plan"
    max_tokens: int = 1024
    # Seconds between streamed words, to make the stream visible in demos; 0 in tests.
    token_delay_s: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": "offline", "feature": self.feature}

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    # -- deciding what to say --------------------------------------------------------

    def _reply(self, messages: list[BaseMessage], tools: Sequence[dict[str, Any]]) -> AIMessage:
        request, results = _latest_request(messages)
        tool_reply = TOOL_REPLIES.get(self.feature)
        if tool_reply is not None:
            return AIMessage(content=tool_reply(request))
        if results:
            return AIMessage(content=answer_from_tool_results(results))
        available = {tool["function"]["name"] for tool in tools if "function" in tool}
        calls = plan_calls(request, available=available, workspace=_workspace(messages))
        if calls:
            # Ids differ between runs of a thread (same request twice) but not between
            # repeats of the same conversation, so replays stay deterministic.
            seed = hashlib.sha256(f"{len(messages)}:{request}".encode()).hexdigest()[:10]
            return AIMessage(
                content="",
                tool_calls=[
                    tool_call(name=call.name, args=call.args, id=f"call_{seed}_{index}")
                    for index, call in enumerate(calls)
                ],
            )
        lowered = request.lower()
        if GREETING.search(lowered) or "what can you do" in lowered or "help" in lowered.split():
            return AIMessage(content=greeting_answer())
        if THANKS.search(lowered):
            return AIMessage(content=thanks_answer())
        return AIMessage(content=unknown_answer())

    def _finish(self, message: AIMessage, messages: list[BaseMessage]) -> AIMessage:
        words = message.text.split(" ")
        # Honour max_tokens the way a real model would: stop writing, finish "length".
        truncated = False
        while words and approximate_tokens(" ".join(words)) > self.max_tokens:
            words = words[: max(1, len(words) * 9 // 10)]
            truncated = True
            if len(words) == 1:
                break
        content = " ".join(words) if truncated else message.content
        prompt_text = json.dumps([m.content for m in messages], default=str)
        output_tokens = approximate_tokens(str(content)) + 10 * len(message.tool_calls)
        input_tokens = approximate_tokens(prompt_text)
        return AIMessage(
            content=content,
            tool_calls=message.tool_calls,
            usage_metadata={
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            response_metadata={
                **OFFLINE_METADATA,
                "finish_reason": "length"
                if truncated
                else ("tool_calls" if message.tool_calls else "stop"),
            },
        )

    def _answer(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        return self._finish(self._reply(messages, kwargs.get("tools") or []), messages)

    # -- LangChain entry points ------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages, kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop=stop, **kwargs)

    def _chunks(self, message: AIMessage) -> Iterator[ChatGenerationChunk]:
        text = message.text
        pieces = [piece for piece in text.split(" ")] if text else []
        for index, piece in enumerate(pieces):
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=piece if index == 0 else f" {piece}")
            )
        if message.tool_calls:
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        tool_call_chunk(
                            name=call["name"],
                            args=json.dumps(call["args"]),
                            id=call["id"],
                            index=index,
                        )
                        for index, call in enumerate(message.tool_calls)
                    ],
                )
            )
        # Usage and labels once, at the end, as OpenAI-compatible streams do.
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=message.usage_metadata,
                response_metadata=dict(message.response_metadata),
                chunk_position="last",
            )
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._answer(messages, kwargs)):
            if self.token_delay_s and chunk.message.content:
                time.sleep(self.token_delay_s)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._answer(messages, kwargs)):
            if self.token_delay_s and chunk.message.content:
                await asyncio.sleep(self.token_delay_s)
            yield chunk
