"""GET /api/admin/stats/: staff only; totals, busiest clients, recent sign-ups, spend."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.clients.services import api_key_create, client_create
from backend.guard.models import LlmCall
from backend.payments.models import StripeEvent
from backend.runs.models import Run

pytestmark = pytest.mark.django_db
STATS = "/api/admin/stats/"


def test_only_staff_or_admin_keys_see_stats(api_client, account_client):
    assert api_client.get(STATS).status_code == 401
    _, token = client_create(ip_hash="x")
    api_client.credentials(HTTP_X_CLIENT_TOKEN=token)
    assert api_client.get(STATS).status_code == 403
    assert account_client.get(STATS).status_code == 403
    key, raw = api_key_create(name="ops")
    key.is_admin = True
    key.save()
    admin_key = APIClient()
    admin_key.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert admin_key.get(STATS).status_code == 200


def test_invalid_window_names_the_field(api_client):
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    api_client.force_login(staff)
    response = api_client.get(STATS, {"days": 0})
    assert "days" in response.json()["error"]["details"]["fields"]


def test_stats_report_totals_busiest_clients_sign_ups_and_spend(api_client, make_account):
    ada, _ = make_account("ada@example.com")
    make_account("bob@example.com")
    for _ in range(3):
        Run.objects.create(
            kind="chat", client_id=str(ada.client_id), model="m", cost_usd=Decimal("0.5")
        )
    Run.objects.create(kind="factoid", client_id="anon-1", model="m")
    LlmCall.objects.create(
        client_id=str(ada.client_id), plan="free", feature="f", model="m", cost_usd=Decimal("0.25")
    )
    StripeEvent.objects.create(event_id="evt_1", type="x", status="unmatched")
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    api_client.force_login(staff)
    body = api_client.get(STATS).json()
    assert body["totals"]["users"] == 2
    assert body["totals"]["runs"] == 4
    assert body["totals"]["runs_by_kind"] == {"chat": 3, "factoid": 1}
    assert body["totals"]["spend_usd"] == "0.250000"
    busiest = body["most_active_clients"][0]
    assert busiest == {
        "client_id": str(ada.client_id),
        "account_email": "ada@example.com",
        "runs": 3,
        "spend_usd": "1.500000",
    }
    assert [r["email"] for r in body["recent_registrations"]] == [
        "bob@example.com",
        "ada@example.com",
    ]
    assert [d["spend_usd"] for d in body["spend_per_day"]] == ["0.250000"]
    assert body["payments"]["unmatched_events"] == 1
