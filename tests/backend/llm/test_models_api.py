import pytest

pytestmark = pytest.mark.django_db


def test_offline_model_is_always_listed_and_labelled(api_client, env):
    env(OPENROUTER_API_KEY=None, DECLARED_MODELS=[])
    body = api_client.get("/api/models/").json()
    assert body["default"] == "offline"
    assert body["results"] == [
        {
            "id": "offline",
            "provider": "offline",
            "offline": True,
            "context_length": None,
            "input_per_million_usd": "0",
            "output_per_million_usd": "0",
        }
    ]


def test_declared_models_with_prices_per_million(api_client, env):
    env(
        DECLARED_MODELS=[
            {
                "id": "local/llama",
                "input_per_million": "0",
                "output_per_million": "0",
                "context_length": 8192,
            },
            {"id": "x/priced", "input_per_million": "0.15", "output_per_million": "0.6"},
        ]
    )
    results = {row["id"]: row for row in api_client.get("/api/models/").json()["results"]}
    assert results["local/llama"]["input_per_million_usd"] == "0"
    assert results["local/llama"]["context_length"] == 8192
    assert results["x/priced"]["input_per_million_usd"] == "0.15"
    assert results["x/priced"]["output_per_million_usd"] == "0.6"


def test_cached_openrouter_models_listed_only_with_a_key(api_client, env):
    from decimal import Decimal

    from django.utils import timezone

    from backend.llm.models import CatalogueModel

    CatalogueModel.objects.create(
        model_id="vendor/model",
        input_per_token=Decimal("0.000001"),
        output_per_token=Decimal("0.000002"),
        context_length=1000,
        fetched_at=timezone.now(),
    )
    env(OPENROUTER_API_KEY=None)
    ids = [row["id"] for row in api_client.get("/api/models/").json()["results"]]
    assert "vendor/model" not in ids
    env(OPENROUTER_API_KEY="sk-test")
    rows = {row["id"]: row for row in api_client.get("/api/models/").json()["results"]}
    assert rows["vendor/model"]["input_per_million_usd"] == "1"
    assert rows["vendor/model"]["output_per_million_usd"] == "2"
