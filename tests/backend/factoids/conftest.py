from __future__ import annotations

import pytest

from backend.factoids.models import Factoid
from backend.factoids.text import text_hash


@pytest.fixture
def embedded(settings):
    """Generation runs execute on the embedded thread runner with an in-memory event log."""
    from backend.runs.eventlog import reset_for_tests

    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


def make_factoid(*, subject: str = "astronomy", text: str, **fields) -> Factoid:
    return Factoid.objects.create(
        subject=subject, text=text, text_hash=text_hash(text), model="offline", **fields
    )
