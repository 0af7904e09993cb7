"""An account's thumbnails are in its export (with fresh signed URLs) and go with it when it
is deleted, files included."""

from __future__ import annotations

import pytest

from backend.thumbnails.models import Thumbnail
from backend.thumbnails.services import storage
from tests.backend.accounts.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("thumbnail_files")]


def test_thumbnails_are_exported_and_deleted_with_the_account(account_client) -> None:
    made = account_client.post(
        "/api/thumbnails/", {"prompt": "latte art", "count": 2}, format="json"
    ).json()["results"]
    names = list(Thumbnail.objects.values_list("file_name", flat=True))
    assert len(names) == 2 and all(storage().exists(name) for name in names)

    exported = account_client.get("/api/accounts/export/").json()
    assert {t["id"] for t in exported["thumbnails"]} == {t["id"] for t in made}
    assert all(t["url"].startswith("/api/thumbnails/") for t in exported["thumbnails"])

    deleted = account_client.delete("/api/accounts/me/", {"password": PASSWORD}, format="json")
    assert deleted.status_code == 204, deleted.content
    assert not Thumbnail.objects.exists()
    assert not any(storage().exists(name) for name in names)
