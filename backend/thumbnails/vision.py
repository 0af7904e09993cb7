"""An uploaded thumbnail analysed: the measured features, and a vision model's critique.

``THUMBNAIL_VISION_MODEL`` (unset: the service's default model) looks at the image through
the guarded model factory, so its call is reserved and settled by the cost guard (the
image priced per image), recorded in the ledger and sent to PostHog like every model call
(feature ``thumbnail_critique``). The measured features never depend on it: the offline
model cannot see, so with it there is no critique, and a refusal by the guard or a failed
call leaves ``critique`` null with the reason in ``note`` and ``model_error``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from django.conf import settings

from agents.guard import CallMeta, GuardError
from agents.models import image_inputs, prompt_tokens_upper_bound
from agents.thumbnails import analysis, vision
from backend.clients.identity import Identity
from backend.guard.entry import check_call_allowed
from backend.llm.selectors import default_model_id, model_price
from backend.model_calls.factory import model_factory

logger = structlog.get_logger(__name__)

FEATURE = "thumbnail_critique"
# The whole model call, retries included: the upload's request waits for it.
VISION_TIMEOUT_S = 60.0
MEASURED_NOTE = (
    "Measured locally from the pixels (colours, brightness, contrast, an estimate of the "
    "text and detail area, shape and size)."
)


def vision_model_id() -> str:
    return settings.ENV.THUMBNAIL_VISION_MODEL or default_model_id()


def thumbnail_analyse(*, identity: Identity, decoded: analysis.DecodedImage) -> dict[str, Any]:
    """``{measured, critique, model, note}`` (and ``model_error`` when the model gave none)."""
    measured = analysis.measure(decoded)
    model_id = vision_model_id()
    price = model_price(model_id=model_id)
    if price is None:
        return _no_critique(
            measured,
            model_id=model_id,
            code="AI_SERVICE_UNAVAILABLE",
            message=f"The vision model {model_id!r} has no known price, so it cannot be used.",
        )
    if price.offline:
        return {
            "measured": measured,
            "critique": None,
            "model": None,
            "note": (
                f"{MEASURED_NOTE} No model looked at this image: this service runs on the "
                "offline model, which cannot see images, so there are no tags or critique."
            ),
        }
    meta = CallMeta(
        client_id=identity.client_id,
        feature=FEATURE,
        plan=identity.plan,
        ip_hash=identity.ip_hash,
        api_key_id=identity.api_key_id,
    )
    messages = vision.critique_messages(decoded)

    async def ask() -> vision.ThumbnailCritique:
        model = model_factory(prices={model_id: price}).chat_model(
            model_id, meta=meta, max_tokens=vision.CRITIQUE_MAX_TOKENS
        )
        async with asyncio.timeout(VISION_TIMEOUT_S):
            return await vision.ask_for_critique(model=model, messages=messages)

    try:
        # The same bound the call's reservation will hold, so the pre-flight refuses
        # exactly what the reservation would.
        check_call_allowed(
            identity=identity,
            model_id=model_id,
            feature=FEATURE,
            max_tokens=vision.CRITIQUE_MAX_TOKENS,
            images=image_inputs(messages),
            prompt_tokens_upper_bound=prompt_tokens_upper_bound(messages=messages),
        )
        critique = async_to_sync(ask)()
    except GuardError as exc:  # refused by the guard (budget, rate, its store unreachable)
        return _no_critique(measured, model_id=model_id, code=exc.code, message=exc.message)
    except vision.CritiqueFailed as exc:
        return _no_critique(
            measured,
            model_id=model_id,
            code="UPSTREAM_ERROR",
            message=f"The vision model's reply was not a valid critique: {exc.message}",
        )
    except TimeoutError:
        return _no_critique(
            measured,
            model_id=model_id,
            code="UPSTREAM_ERROR",
            message=f"The vision model took longer than {VISION_TIMEOUT_S:g} s.",
        )
    except Exception as exc:  # the provider failed after the factory's own retries
        logger.warning("thumbnail_critique_failed", model=model_id, error=type(exc).__name__)
        return _no_critique(
            measured,
            model_id=model_id,
            code="UPSTREAM_ERROR",
            message=f"The vision model could not answer ({type(exc).__name__}).",
        )
    return {
        "measured": measured,
        "critique": critique.model_dump(),
        "model": model_id,
        "note": (
            f"{MEASURED_NOTE} The tags and critique are {model_id}'s opinion of the image, "
            "not measurements."
        ),
    }


def _no_critique(
    measured: dict[str, Any], *, model_id: str, code: str, message: str
) -> dict[str, Any]:
    return {
        "measured": measured,
        "critique": None,
        "model": model_id,
        "note": f"{MEASURED_NOTE} No tags or critique: {message}",
        "model_error": {"code": code, "message": message},
    }
