"""Racing PATCHes on PostgreSQL never leave two primaries (or a 500).

Each PATCH takes row locks on all the client's channels before it reads who is primary;
without them two requests both clear the old primary and both set theirs, and the
second trips ``uniq_client_primary_channel`` (an IntegrityError, a 500).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend.channels.models import Channel
from backend.clients.services import client_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 4
ROUNDS = 8


def test_concurrent_make_primary_and_demote_leave_exactly_one_primary():
    client, token = client_create(ip_hash="racer")
    cid = str(client.id)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    channels = []
    for n in range(RACERS + 1):
        channel = Channel.objects.create(
            client_id=cid,
            external_id=f"UC{n}",
            title=f"Channel {n}",
            role="own",
            is_primary=n == 0,
            source="import",
            fetched_at=start,
        )
        Channel.objects.filter(pk=channel.pk).update(created_at=start + timedelta(seconds=n))
        channels.append(channel)

    def race(bodies: list[tuple[Channel, dict]]) -> list[int]:
        barrier = threading.Barrier(len(bodies))

        def send(job: tuple[Channel, dict]) -> int:
            channel, body = job
            api = APIClient()
            api.credentials(HTTP_X_CLIENT_TOKEN=token)
            try:
                barrier.wait(timeout=30)
                return api.patch(f"/api/channels/{channel.id}/", body, format="json").status_code
            finally:
                connection.close()  # each thread has its own connection

        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            return list(pool.map(send, bodies))

    for round_number in range(ROUNDS):
        current = Channel.objects.get(client_id=cid, is_primary=True)
        others = [c for c in channels if c.pk != current.pk][:RACERS]
        jobs = [(c, {"primary": True}) for c in others[:-1]]
        # One racer demotes the current primary at the same time (promotes the oldest own).
        jobs.append((current, {"role": "competitor"}))
        statuses = race(jobs)
        assert statuses == [200] * len(jobs), f"round {round_number}: {statuses}"
        primaries = list(Channel.objects.filter(client_id=cid, is_primary=True))
        assert len(primaries) == 1, f"round {round_number}: {primaries}"
        assert primaries[0].role == "own"
        # Back to all own for the next round.
        Channel.objects.filter(client_id=cid).update(role="own")
