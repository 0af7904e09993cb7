"""Attaching an anonymous client to an account: its rows move to the account's client.

Everything the API keeps per client is keyed by ``client_id``; moving those rows is what
makes the history, channels, votes and tool results the account's. Where both already
have a row that must be unique, the account's wins (its vote on a factoid, its role,
primary and name for a channel — whose statistics come from the newer snapshot —, its
chat id). Today's spend moves too, so
signing up never resets a day's budget.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.db.models import F, Model

from backend.accounts.models import Account, AttachedClient

logger = structlog.get_logger(__name__)


def _simple_tables() -> list[tuple[str, type[Model]]]:
    from backend.factoids.models import Factoid, FactoidFeedback
    from backend.guard.models import GuardEvent, LlmCall
    from backend.runs.models import Run
    from backend.tools.models import HistoryEntry

    return [
        ("runs", Run),
        ("history", HistoryEntry),
        ("factoids", Factoid),
        ("feedback", FactoidFeedback),
        ("llm_calls", LlmCall),
        ("guard_events", GuardEvent),
    ]


def account_attach_client(*, account: Account, client_id: str) -> dict[str, int]:
    """Move the anonymous client's rows to the account; returns counts per kind of row."""
    target = str(account.client_id)
    if not client_id or client_id == target:
        return {}
    with transaction.atomic():
        moved = {
            "sessions": _move_sessions(source=client_id, target=target),
            "channels": _move_channels(source=client_id, target=target),
            "votes": _move_votes(source=client_id, target=target),
        }
        for name, model in _simple_tables():
            moved[name] = model.objects.filter(client_id=client_id).update(client_id=target)  # type: ignore[attr-defined]
        AttachedClient.objects.create(account=account, client_id=client_id, moved=moved)
    moved["spent_micros"] = _move_todays_spend(source=client_id, target=target)
    logger.info("client_attached", account_id=str(account.id), client_id=client_id, **moved)
    return moved


def _move_sessions(*, source: str, target: str) -> int:
    from backend.chat.models import ChatSession

    # A chat id (the AI SDK's own id) is unique per client; the account keeps its own.
    taken = ChatSession.objects.filter(client_id=target).exclude(external_id="")
    ChatSession.objects.filter(
        client_id=source, external_id__in=taken.values("external_id")
    ).update(external_id="")
    return ChatSession.objects.filter(client_id=source).update(client_id=target)


def _move_channels(*, source: str, target: str) -> int:
    from backend.channels.services import channels_attach

    # The account's roles, primary and display names win; see channels_attach.
    return channels_attach(from_client_id=source, to_client_id=target)


def _move_votes(*, source: str, target: str) -> int:
    from backend.factoids.models import Factoid, FactoidVote

    moved = 0
    for vote in FactoidVote.objects.filter(client_id=source).order_by("factoid_id"):
        # Under the factoid's row lock, as every vote change is (counts stay exact).
        Factoid.objects.select_for_update().filter(pk=vote.factoid_id).first()
        if FactoidVote.objects.filter(factoid_id=vote.factoid_id, client_id=target).exists():
            # The account already voted on this factoid: its vote wins, this one goes.
            FactoidVote.objects.filter(pk=vote.pk).delete()
            Factoid.objects.filter(pk=vote.factoid_id).update(
                up=F("up") - int(vote.value == FactoidVote.Value.UP),
                down=F("down") - int(vote.value == FactoidVote.Value.DOWN),
            )
        else:
            FactoidVote.objects.filter(pk=vote.pk).update(client_id=target)
            moved += 1
    return moved


def _move_todays_spend(*, source: str, target: str) -> int:
    from backend.guard.services import guard_daily_spend_transfer

    try:
        return guard_daily_spend_transfer(from_client_id=source, to_client_id=target)
    except Exception:
        # The budget store being down must not fail a signup; the day's spend then stays
        # with the anonymous client (logged).
        logger.exception("attach_spend_transfer_failed", client_id=source)
        return 0


def attached_summary(moved: dict[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in moved.items() if key != "spent_micros"}
