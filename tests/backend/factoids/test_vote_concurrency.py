"""Vote totals stay exact when many clients vote and change their votes at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend.clients.services import client_create
from backend.factoids.models import FactoidVote
from tests.backend.factoids.conftest import make_factoid

pytestmark = pytest.mark.django_db(transaction=True)
CLIENTS = 50


def test_fifty_concurrent_vote_changes_give_exact_totals():
    factoid = make_factoid(text="The blue whale is the largest animal known to have ever lived.")
    tokens = [client_create(ip_hash=f"voter-{n}")[1] for n in range(CLIENTS)]
    url = f"/api/factoids/{factoid.uuid}/vote/"

    def race(votes: list[str]) -> list[int]:
        barrier = threading.Barrier(CLIENTS)

        def vote(index: int) -> int:
            client = APIClient()
            client.credentials(HTTP_X_CLIENT_TOKEN=tokens[index])
            try:
                barrier.wait(timeout=30)
                return client.post(url, {"vote": votes[index]}, format="json").status_code
            finally:
                connection.close()  # each thread has its own connection

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            return list(pool.map(vote, range(CLIENTS)))

    assert race(["up"] * CLIENTS) == [200] * CLIENTS
    factoid.refresh_from_db()
    assert (factoid.up, factoid.down) == (CLIENTS, 0)

    # Everyone changes at once: 20 switch to down, 15 withdraw, 15 repeat their up vote.
    changes = ["down"] * 20 + ["none"] * 15 + ["up"] * 15
    assert race(changes) == [200] * CLIENTS
    factoid.refresh_from_db()
    assert (factoid.up, factoid.down) == (15, 20)
    votes = FactoidVote.objects.filter(factoid=factoid)
    assert votes.filter(value=1).count() == factoid.up
    assert votes.filter(value=-1).count() == factoid.down
