"""The session cookie on the ASGI path, where Django's middleware hooks run on the loop
(backend/core/loop_middleware.py) and only a session that changed is saved in a thread."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from tests.backend.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


async def test_session_sign_in_and_out_on_the_async_path(make_account):
    account, _ = await sync_to_async(make_account)()
    browser = AsyncClient()
    signed = await browser.post(
        "/api/accounts/login/",
        {"email": account.email, "password": PASSWORD, "session": True},
        content_type="application/json",
        headers={"X-Requested-With": "fetch"},
    )
    assert signed.status_code == 200, signed.content
    assert "sessionid" in signed.cookies  # saved (a thread), then sent
    me = await browser.get("/api/clients/me/")
    assert me.status_code == 200
    assert me.json()["via"] == "session"
    assert me.json()["account_id"] == str(account.pk)
    out = await browser.post(
        "/api/accounts/logout/",
        {},
        content_type="application/json",
        headers={"X-Requested-With": "x"},
    )
    assert out.status_code == 204
    assert (await browser.get("/api/accounts/me/")).status_code == 401


async def test_security_headers_on_the_async_path():
    response = await AsyncClient().get("/api/config/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
    assert response["X-Frame-Options"] == "DENY"  # XFrameOptionsMiddleware
