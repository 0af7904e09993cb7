"""Cancelling a queued run: its ``run.cancelled`` leaves only with the caller's commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.models import Run
from backend.runs.services import run_cancel

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def logged_types(run: Run) -> list[str]:
    return [event.type for event in get_event_log().range(run_id=str(run.id))]


def test_a_cancel_rolled_back_with_its_transaction_leaves_no_event():
    reset_for_tests()
    run = Run.objects.create(kind="chat", client_id="c", model="offline")
    seen_inside: list[str] = []

    def cancel_then_fail() -> None:
        with transaction.atomic():
            assert run_cancel(run=run, reason="interrupted by a new message").status == "cancelled"
            seen_inside.extend(logged_types(run))  # not before the commit
            raise Rollback

    with pytest.raises(Rollback):
        cancel_then_fail()
    assert seen_inside == []
    run.refresh_from_db()
    assert (run.status, run.cancel_requested) == ("queued", False)
    assert logged_types(run) == []


def test_a_committed_cancel_emits_run_cancelled_once():
    reset_for_tests()
    run = Run.objects.create(kind="chat", client_id="c", model="offline")
    with transaction.atomic():
        run_cancel(run=run, reason="interrupted by a new message")
    assert logged_types(run) == ["run.cancelled"]
    event = get_event_log().range(run_id=str(run.id))[0]
    assert event.data == {"reason": "interrupted by a new message"}
    # Outside a transaction (autocommit) it goes out at once.
    other = Run.objects.create(kind="chat", client_id="c", model="offline")
    run_cancel(run=other)
    assert logged_types(other) == ["run.cancelled"]
