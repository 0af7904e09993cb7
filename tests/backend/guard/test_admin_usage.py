from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from backend.clients.services import api_key_create
from backend.guard.models import GuardEvent, LlmCall

pytestmark = pytest.mark.django_db


def test_anonymous_is_401(api_client):
    assert api_client.get("/api/admin/usage/").status_code == 401


def test_ordinary_client_is_403(anon_client):
    response = anon_client.get("/api/admin/usage/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_bad_days_is_400(api_client):
    _, raw = api_key_create(name="ops")
    from backend.clients.models import ApiKey

    ApiKey.objects.update(is_admin=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api_client.get("/api/admin/usage/?days=0")
    assert response.status_code == 400
    assert "days" in response.json()["error"]["details"]["fields"]


def test_admin_key_sees_spend_per_day_model_and_plan(api_client):
    _, raw = api_key_create(name="ops")
    from backend.clients.models import ApiKey

    ApiKey.objects.update(is_admin=True)
    for model, plan, cost in [
        ("a/m", "anonymous", "0.01"),
        ("a/m", "paid", "0.02"),
        ("b/m", "paid", "0.5"),
    ]:
        LlmCall.objects.create(
            client_id="c",
            plan=plan,
            feature="chat",
            model=model,
            input_tokens=10,
            output_tokens=5,
            cost_usd=Decimal(cost),
        )
    LlmCall.objects.create(
        client_id="c",
        plan="paid",
        feature="chat",
        model="b/m",
        cost_usd=Decimal("0.2"),
        estimated=True,
        generation_id="gen-1",
        reservation_id="r-1",
    )
    GuardEvent.objects.create(kind="rate_limited", client_id="c")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = api_client.get("/api/admin/usage/").json()
    assert {row["model"]: row["spend_usd"] for row in body["by_model"]} == {
        "a/m": "0.030000",
        "b/m": "0.700000",
    }
    assert {row["plan"]: row["calls"] for row in body["by_plan"]} == {"anonymous": 1, "paid": 3}
    assert body["by_day"][0]["calls"] == 4
    assert body["estimates"] == {
        "calls": 1,
        "spend_usd": "0.200000",
        "reconciled": 0,
        "pending_settles": 0,
    }
    assert body["refusals"][0]["kind"] == "rate_limited"
    assert body["active_reservations"] == []


def test_staff_session_user_may_read(client):
    user = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    client.force_login(user)
    assert client.get("/api/admin/usage/").status_code == 200
