"""An AI SDK chat id names a session by our id or by the client's own (one query)."""

from __future__ import annotations

import uuid

import pytest

from backend.chat.models import ChatSession
from backend.chat.selectors import session_find_for_client

pytestmark = pytest.mark.django_db


def test_a_chat_id_finds_the_session_by_our_id_or_the_clients_own():
    ours = ChatSession.objects.create(client_id="c", model="offline")
    named = ChatSession.objects.create(client_id="c", model="offline", external_id="chat-1")
    uuid_named = ChatSession.objects.create(
        client_id="c", model="offline", external_id=str(uuid.uuid4())
    )
    # A session of the same client named with our id does not shadow ours.
    ChatSession.objects.create(client_id="c", model="offline", external_id=str(ours.pk))

    assert session_find_for_client(client_id="c", chat_id=str(ours.pk)) == ours
    assert session_find_for_client(client_id="c", chat_id="chat-1") == named
    assert session_find_for_client(client_id="c", chat_id=uuid_named.external_id) == uuid_named
    assert session_find_for_client(client_id="other", chat_id=str(ours.pk)) is None
    assert session_find_for_client(client_id="c", chat_id="nope") is None
    assert session_find_for_client(client_id="c", chat_id=str(uuid.uuid4())) is None
