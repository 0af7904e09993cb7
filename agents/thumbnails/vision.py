"""A vision model's tags and critique of a thumbnail: one multimodal message, strict JSON.

The image goes as an OpenAI-style ``image_url`` part holding a data URI of the decoded
pixels, re-encoded here as JPEG with no EXIF or other metadata (``analysis.decode`` keeps
only the pixels) and downscaled so its longer side is at most ``MAX_VISION_SIDE`` px: the
size the guard's fixed per-image reservation (``agents.models.IMAGE_INPUT_TOKENS``)
assumes. Everything in the image is data: the prompt says its text is never an
instruction, and the reply must match ``ThumbnailCritique`` or nothing is shown.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from typing import Annotated

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from PIL import Image
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, field_validator

from agents.prompts import IMAGE_DATA_RULE, THUMBNAIL_CRITIQUE_PROMPT, THUMBNAIL_CRITIQUE_REQUEST
from agents.thumbnails.analysis import DecodedImage
from agents.tools.base import ToolFailure, parse_json_object, validate_model_output

MAX_VISION_SIDE = 1280
JPEG_QUALITY = 88
MAX_TAGS = 12
# The reply: twelve tags, four short judgements and a paragraph fit well within this.
CRITIQUE_MAX_TOKENS = 700

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _plain(text))


Tag = Annotated[StrictStr, AfterValidator(_one_line), Field(min_length=1, max_length=40)]
Judgement = Annotated[StrictStr, AfterValidator(_plain), Field(min_length=1, max_length=600)]


class ThumbnailCritique(BaseModel):
    """The model's reply, validated: every field present, strings only, bounded."""

    model_config = ConfigDict(extra="ignore")

    tags: list[Tag] = Field(max_length=MAX_TAGS)
    text_legibility: Judgement
    faces: Judgement
    contrast: Judgement
    clutter: Judgement
    summary: Annotated[StrictStr, AfterValidator(_plain), Field(min_length=1, max_length=1500)]

    @field_validator("tags")
    @classmethod
    def _distinct(cls, tags: list[str]) -> list[str]:
        seen: set[str] = set()
        distinct = []
        for tag in tags:
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                distinct.append(tag)
        return distinct


class CritiqueFailed(Exception):
    """The model answered, but not with a critique we can show (its message says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, kw_only=True)
class VisionImage:
    """The image as the model receives it."""

    data_uri: str
    width: int
    height: int
    jpeg: bytes


def prepare_image(decoded: DecodedImage) -> VisionImage:
    """A fresh JPEG of the pixels, the longer side at most ``MAX_VISION_SIDE`` px."""
    image = decoded.rgb.copy()
    if max(image.size) > MAX_VISION_SIDE:
        image.thumbnail((MAX_VISION_SIDE, MAX_VISION_SIDE), Image.Resampling.LANCZOS)
    image.info = {}  # nothing but the pixels is written (no EXIF, ICC or comments)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    jpeg = out.getvalue()
    return VisionImage(
        data_uri="data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"),
        width=image.width,
        height=image.height,
        jpeg=jpeg,
    )


def critique_messages(decoded: DecodedImage) -> list[BaseMessage]:
    """The system prompt and one user message: the request text and the image."""
    image = prepare_image(decoded)
    width, height = decoded.rgb.size
    request = THUMBNAIL_CRITIQUE_REQUEST.format(
        width=image.width, height=image.height, original_width=width, original_height=height
    )
    return [
        SystemMessage(
            THUMBNAIL_CRITIQUE_PROMPT.format(max_tags=MAX_TAGS, image_data_rule=IMAGE_DATA_RULE)
        ),
        HumanMessage(
            content=[
                {"type": "text", "text": request},
                {"type": "image_url", "image_url": {"url": image.data_uri, "detail": "high"}},
            ]
        ),
    ]


def parse_critique(text: str) -> ThumbnailCritique:
    """The reply's JSON object as a critique; ``CritiqueFailed`` if it is not one."""
    try:
        return validate_model_output(ThumbnailCritique, parse_json_object(text))
    except ToolFailure as exc:
        raise CritiqueFailed(exc.message) from exc


async def critique_thumbnail(*, model: BaseChatModel, image: DecodedImage) -> ThumbnailCritique:
    """Ask ``model`` (a guarded vision model from the factory) for tags and a critique.

    Raises what the model raises (``GuardError`` for a refusal by the cost guard, the
    client's errors for an upstream failure) and ``CritiqueFailed`` for a reply that is
    not a valid critique.
    """
    return await ask_for_critique(model=model, messages=critique_messages(image))


async def ask_for_critique(
    *, model: BaseChatModel, messages: list[BaseMessage]
) -> ThumbnailCritique:
    """``critique_thumbnail`` with the messages already built (``critique_messages``), for
    a caller that sized them first (a pre-flight check of the guard)."""
    reply = await model.ainvoke(messages)
    return parse_critique(reply.text)
