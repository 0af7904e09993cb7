from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory

from backend.audit.models import AuditEvent
from tests.backend.accounts.conftest import (  # noqa: F401
    PASSWORD,
    account_client,
    make_account,
    register,
    signed_in,
)
from tests.backend.payments.conftest import billing  # noqa: F401


@pytest.fixture(autouse=True)
def _embedded_runner(settings) -> None:
    """Mail and webhook fulfilment run on the embedded task runner; tests drain it."""
    settings.TASK_RUNNER = "thread"


def events(action: str, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("pk"))


def one(action: str, **filters: Any) -> AuditEvent:
    found = events(action, **filters)
    assert len(found) == 1, (action, [(e.action, e.account_id) for e in found])
    return found[0]


def as_text(event: AuditEvent) -> str:
    """Everything the row holds, to check that a secret is nowhere in it."""
    return json.dumps(
        {field.name: str(getattr(event, field.name)) for field in AuditEvent._meta.fields}
        | {"metadata": event.metadata}
    )


def local_ip_hash() -> str:
    """The IP hash of the test client's address (127.0.0.1), as the throttles compute it."""
    from backend.clients.identity import ip_hash

    return ip_hash(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1"))
