"""An account's data: the export (everything stored about it, as JSON) and the deletion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.models import Account, AttachedClient, PosthogDeletionRequest
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.selectors import audit_events_for_account
from backend.audit.services import audit_account_forget, audit_record
from backend.core.errors import ConflictError, ValidationError

logger = structlog.get_logger(__name__)


def _rows(queryset: Any, *fields: str) -> list[dict[str, Any]]:
    return list(queryset.values(*fields))


def _exact(value: Any) -> Any:
    """Money as strings (never floats), all the way down."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    return value


def account_export(*, account: Account) -> dict[str, Any]:
    """Everything stored about the account, keyed by what it is (its audit trail too; the
    export itself is recorded after it is made)."""
    exported = _exact(_export(account))
    audit_record(
        action=AuditAction.ACCOUNT_EXPORTED,
        actor=AuditEvent.Actor.ACCOUNT,
        account_id=account.id,
        client_id=account.client_id,
    )
    return exported


def _export(account: Account) -> dict[str, Any]:
    from backend.channels.models import Channel, Video
    from backend.chat.models import ChatMessage, ChatSession
    from backend.factoids.models import Factoid, FactoidFeedback, FactoidVote
    from backend.guard.models import LlmCall
    from backend.payments.models import CheckoutSession, CreditEntry, Subscription
    from backend.payments.selectors import credit_balance
    from backend.runs.models import Run
    from backend.thumbnails.models import PUBLIC_FIELDS, Thumbnail
    from backend.thumbnails.selectors import image_url
    from backend.tools.models import HistoryEntry

    client_id = str(account.client_id)
    user = account.user
    sessions = ChatSession.objects.filter(client_id=client_id).order_by("created_at")
    channels = Channel.objects.filter(client_id=client_id)
    return {
        "exported_at": timezone.now(),
        "account": {
            "id": account.id,
            "email": user.email,
            "created_at": account.created_at,
            "email_verified_at": account.email_verified_at,
            "plan": account.plan,
            "last_login": user.last_login,
            "stripe_customer_id": account.stripe_customer_id,
            "client_id": client_id,
        },
        "attached_clients": _rows(
            AttachedClient.objects.filter(account=account), "client_id", "attached_at", "moved"
        ),
        "api_keys": _rows(user.api_keys.all(), "id", "name", "prefix", "created_at", "revoked_at"),
        "chat_sessions": [
            {
                "id": session.id,
                "title": session.title,
                "model": session.model,
                "created_at": session.created_at,
                "webhook_url": session.webhook_url,
                "messages": _rows(
                    ChatMessage.objects.filter(session=session),
                    "id",
                    "role",
                    "content",
                    "tool_results",
                    "run_id",
                    "created_at",
                ),
            }
            for session in sessions
        ],
        "runs": _rows(
            Run.objects.filter(client_id=client_id).order_by("created_at"),
            "id",
            "kind",
            "session_id",
            "status",
            "model",
            "input",
            "result",
            "error_code",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "created_at",
            "finished_at",
        ),
        "tool_history": _rows(
            HistoryEntry.objects.filter(client_id=client_id),
            "tool",
            "input",
            "result",
            "created_at",
        ),
        # The images themselves stay behind their signed URLs (as in the UI).
        "thumbnails": [
            {**row, "url": image_url(Thumbnail(id=row["id"], client_id=client_id))}
            for row in _rows(
                Thumbnail.objects.filter(client_id=client_id).order_by("created_at"),
                *PUBLIC_FIELDS,
            )
        ],
        "channels": [
            {
                "id": channel.id,
                "external_id": channel.external_id,
                "title": channel.title,
                "display_name": channel.display_name,
                "handle": channel.handle,
                "role": channel.role,
                "primary": channel.is_primary,
                "source": channel.source,
                "fetched_at": channel.fetched_at,
                "videos": _rows(
                    Video.objects.filter(channel=channel),
                    "video_id",
                    "title",
                    "published_at",
                    "views",
                    "likes",
                    "comments",
                    "thumbnail_url",
                ),
            }
            for channel in channels
        ],
        "factoids_created": _rows(
            Factoid.objects.filter(client_id=client_id),
            "uuid",
            "subject",
            "text",
            "source",
            "visibility",
            "created_at",
        ),
        "factoid_votes": [
            {"factoid": vote["factoid__uuid"], "vote": "up" if vote["value"] == 1 else "down"}
            for vote in FactoidVote.objects.filter(client_id=client_id).values(
                "factoid__uuid", "value"
            )
        ],
        "factoid_feedback": _rows(
            FactoidFeedback.objects.filter(client_id=client_id),
            "factoid__uuid",
            "vote",
            "text",
            "created_at",
        ),
        "model_calls": _rows(
            LlmCall.objects.filter(client_id=client_id).order_by("created_at"),
            "run_id",
            "feature",
            "model",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "created_at",
        ),
        "credits": {
            "balance_usd": credit_balance(account=account),
            "entries": _rows(
                CreditEntry.objects.filter(account=account).order_by("created_at"),
                "kind",
                "amount_usd",
                "reference",
                "note",
                "created_at",
            ),
        },
        "checkout_sessions": _rows(
            CheckoutSession.objects.filter(account=account).order_by("created_at"),
            "id",
            "stripe_session_id",
            "price_key",
            "mode",
            "status",
            "payment_status",
            "amount_total",
            "currency",
            "credits_usd",
            "fulfilled_at",
            "created_at",
        ),
        "subscriptions": _rows(
            Subscription.objects.filter(account=account),
            "stripe_subscription_id",
            "status",
            "price_key",
            "current_period_end",
            "cancel_at_period_end",
        ),
        "audit_events": audit_events_for_account(
            account_id=account.id,
            client_ids=[
                client_id,
                *AttachedClient.objects.filter(account=account).values_list("client_id", flat=True),
            ],
        ),
    }


def account_delete(*, account: Account, password: str) -> None:
    """Delete the account and everything stored under it: sessions with their runs, event
    logs and checkpoint threads, other runs, channels, history, votes and feedback, keys.

    Factoids it generated stay in the public feed without an author (its private ones,
    saved by the agent from its channels, are deleted); the spend ledger
    keeps its amounts without the client. Payment records stay (bookkeeping) without the
    account. A PostHog person deletion request records every id it was known by. Audit
    events stay (they are the record, until their retention) with the account id as the
    only who: their client ids and IP hashes are forgotten, and the deletion is recorded
    the same way.
    """
    from backend.payments.models import Subscription

    user = account.user
    if not user.check_password(password):
        raise ValidationError.for_field("password", "is not correct")
    if any(s.is_live for s in Subscription.objects.filter(account=account)):
        raise ConflictError(
            "Cancel the Pro subscription first (POST /api/payments/portal/), then delete "
            "the account.",
        )
    client_id = str(account.client_id)
    _delete_runs_and_sessions(client_id=client_id)
    distinct_ids = [
        client_id,
        *AttachedClient.objects.filter(account=account).values_list("client_id", flat=True),
    ]
    with transaction.atomic():
        _delete_client_rows(client_id=client_id)
        from backend.accounts.services.posthog_deletion import posthog_deletion_schedule

        posthog_deletion_schedule(  # sent to PostHog once this commits, never waited for
            request=PosthogDeletionRequest.objects.create(
                account_id=account.id, distinct_ids=distinct_ids
            )
        )
        key_clients = list(user.api_keys.values_list("client_id", flat=True))
        account_id = account.id
        user.delete()  # the account, its ledger and its keys go with the user
        from backend.clients.models import Client

        Client.objects.filter(pk__in=[client_id, *key_clients]).delete()
        audit_account_forget(
            account_id=account_id, client_ids=[*distinct_ids, *map(str, key_clients)]
        )
        audit_record(
            action=AuditAction.ACCOUNT_DELETED,
            actor=AuditEvent.Actor.ACCOUNT,
            account_id=account_id,
            ip_hash="",
        )
    logger.info("account_deleted", account_id=str(account_id), distinct_ids=len(distinct_ids))


def _delete_runs_and_sessions(*, client_id: str) -> None:
    from backend.chat.models import ChatSession
    from backend.chat.services import session_delete
    from backend.runs.checkpoints import delete_thread
    from backend.runs.eventlog import get_event_log
    from backend.runs.models import Run
    from backend.runs.services import run_cancel

    for session in ChatSession.objects.filter(client_id=client_id):
        session_delete(session=session)
    runs = Run.objects.filter(client_id=client_id)
    for run in runs.filter(status__in=Run.ACTIVE):
        run_cancel(run=run, reason="account deleted")
    log = get_event_log()
    for run_id in [str(r) for r in runs.values_list("id", flat=True)]:
        log.delete(run_id=run_id)
        delete_thread(thread_id=run_id)
    runs.delete()


def _delete_client_rows(*, client_id: str) -> None:
    from backend.channels.models import Channel
    from backend.factoids.models import Factoid, FactoidFeedback, FactoidVote
    from backend.guard.models import GuardEvent, LlmCall
    from backend.thumbnails.services import thumbnails_delete_for_client
    from backend.tools.models import HistoryEntry

    for vote in FactoidVote.objects.filter(client_id=client_id):
        Factoid.objects.select_for_update().filter(pk=vote.factoid_id).first()
        Factoid.objects.filter(pk=vote.factoid_id).update(
            up=F("up") - int(vote.value == FactoidVote.Value.UP),
            down=F("down") - int(vote.value == FactoidVote.Value.DOWN),
        )
        vote.delete()
    FactoidFeedback.objects.filter(client_id=client_id).delete()
    # Private factoids were built from the client's channels: they go with the account.
    Factoid.objects.filter(client_id=client_id, visibility=Factoid.Visibility.PRIVATE).delete()
    Factoid.objects.filter(client_id=client_id).update(client_id="")
    HistoryEntry.objects.filter(client_id=client_id).delete()
    thumbnails_delete_for_client(client_id=client_id)  # files too, once this commits
    Channel.objects.filter(client_id=client_id).delete()
    GuardEvent.objects.filter(client_id=client_id).delete()
    LlmCall.objects.filter(client_id=client_id).update(client_id="", session_id="")
