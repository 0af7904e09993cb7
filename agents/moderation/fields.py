"""Which of a tool's arguments are free text a person wrote (and a model will read): those
are moderated; ids, channel names, enums and numbers are not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The tools' free-text argument names (agents/tools/*: content_ideas' topic and seeds'
# topics, keyword_research's topic, hashtags' topic and text, viral_score's text,
# thumbnail's title and prompt, factoid's topic, video_search's and list_channels' query).
FREE_TEXT_ARGS = frozenset({"topic", "text", "title", "prompt", "query"})


def free_text_fields(args: Mapping[str, Any], *, prefix: str = "") -> dict[str, str]:
    """``{path: text}`` for every free-text argument, nested ones as ``seeds[0].topic``
    (under ``prefix``: ``args.topic``)."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str, name: str | None) -> None:
        if isinstance(value, str):
            if name in FREE_TEXT_ARGS and value.strip():
                found[path] = value
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key), str(key))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]", name)

    walk(args, prefix, None)
    return found
