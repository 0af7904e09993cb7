"""The usable models and their prices: offline, declared in settings, cached from OpenRouter.

Prices are never written into code: they come from settings or OpenRouter's list. A model
with no known price is refused (``model_price`` returns None), never treated as free.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from agents.guard import ModelPrice
from backend.llm.models import CatalogueModel

OFFLINE_MODEL_ID = "offline"
PER_MILLION = Decimal(1_000_000)


def offline_model() -> ModelPrice:
    return ModelPrice(
        model_id=OFFLINE_MODEL_ID,
        input_per_token=Decimal(0),
        output_per_token=Decimal(0),
        context_length=None,
        offline=True,
        provider="offline",
    )


def declared_models() -> list[ModelPrice]:
    return [
        ModelPrice(
            model_id=entry["id"],
            input_per_token=Decimal(str(entry["input_per_million"])) / PER_MILLION,
            output_per_token=Decimal(str(entry["output_per_million"])) / PER_MILLION,
            context_length=entry.get("context_length"),
            provider=entry.get("provider", "declared"),
            input_per_image=Decimal(str(entry.get("input_per_image", 0))),
        )
        for entry in settings.ENV.DECLARED_MODELS
    ]


def _remote_enabled() -> bool:
    return bool(settings.ENV.OPENROUTER_API_KEY)


def catalogue_list() -> list[ModelPrice]:
    models = [offline_model(), *declared_models()]
    if _remote_enabled():
        declared = {model.model_id for model in models}
        models += [
            _from_row(row)
            for row in CatalogueModel.objects.order_by("model_id")
            if row.model_id not in declared
        ]
    return models


def model_price(*, model_id: str) -> ModelPrice | None:
    if model_id == OFFLINE_MODEL_ID:
        return offline_model()
    for model in declared_models():
        if model.model_id == model_id:
            return model
    if _remote_enabled():
        row = CatalogueModel.objects.filter(model_id=model_id).first()
        if row is not None:
            return _from_row(row)
    return None


def default_model_id() -> str:
    env = settings.ENV
    if env.DEFAULT_MODEL:
        return env.DEFAULT_MODEL
    return OFFLINE_MODEL_ID


def _from_row(row: CatalogueModel) -> ModelPrice:
    return ModelPrice(
        model_id=row.model_id,
        input_per_token=row.input_per_token,
        output_per_token=row.output_per_token,
        context_length=row.context_length,
        provider="openrouter",
        input_per_image=row.input_per_image,
    )
