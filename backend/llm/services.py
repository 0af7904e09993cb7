from __future__ import annotations

from decimal import Decimal, InvalidOperation

import httpx
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.llm.models import CatalogueModel

logger = structlog.get_logger(__name__)


def catalogue_refresh(*, timeout_s: float = 20.0) -> int:
    """Fetch OpenRouter's models list (string prices per token, and per input image in
    ``pricing.image``) and cache it; returns count.

    Models whose prices are missing or not numbers are skipped, so they stay unusable; a
    model that lists no image price bills images as prompt tokens only.
    """
    env = settings.ENV
    if not env.OPENROUTER_API_KEY:
        return 0
    response = httpx.get(
        env.OPENROUTER_BASE_URL.rstrip("/") + "/models",
        headers={"Authorization": f"Bearer {env.OPENROUTER_API_KEY}"},
        timeout=timeout_s,
    )
    response.raise_for_status()
    now = timezone.now()
    rows = []
    for entry in response.json().get("data", []):
        pricing = entry.get("pricing") or {}
        try:
            prompt = Decimal(str(pricing["prompt"]))
            completion = Decimal(str(pricing["completion"]))
            image = Decimal(str(pricing.get("image") or 0))
        except (KeyError, InvalidOperation):
            logger.info("catalogue_model_skipped_no_price", model=entry.get("id"))
            continue
        if prompt < 0 or completion < 0 or image < 0:  # -1: OpenRouter's "variable" pricing
            continue
        rows.append(
            CatalogueModel(
                model_id=entry["id"],
                name=str(entry.get("name", ""))[:300],
                context_length=entry.get("context_length"),
                input_per_token=prompt,
                output_per_token=completion,
                input_per_image=image,
                fetched_at=now,
            )
        )
    with transaction.atomic():
        CatalogueModel.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["model_id"],
            update_fields=[
                "name",
                "context_length",
                "input_per_token",
                "output_per_token",
                "input_per_image",
                "fetched_at",
            ],
        )
        CatalogueModel.objects.exclude(model_id__in=[row.model_id for row in rows]).delete()
    logger.info("catalogue_refreshed", models=len(rows))
    return len(rows)
