from __future__ import annotations

import time
import uuid
from typing import Literal, get_args

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from backend.analytics.events import capture
from backend.chat.models import RUN_KIND, ChatMessage, ChatSession
from backend.chat.selectors import session_active_run
from backend.clients.identity import Identity
from backend.core.errors import ConflictError, ValidationError
from backend.guard.entry import check_call_allowed
from backend.moderation.services import moderate
from backend.runs import services as run_services
from backend.runs.models import Run

MAX_CONTENT_CHARS = 8_000
MAX_TITLE_CHARS = 200
Multitask = Literal["reject", "enqueue", "interrupt", "rollback"]
MULTITASK_STRATEGIES: tuple[Multitask, ...] = get_args(Multitask)


def session_create(*, client_id: str, model: str, title: str = "") -> ChatSession:
    return ChatSession.objects.create(client_id=client_id, model=model, title=title.strip())


def session_rename(*, session: ChatSession, title: str) -> ChatSession:
    session.title = title.strip()
    session.save(update_fields=["title", "updated_at"])
    return session


def session_delete(*, session: ChatSession) -> None:
    """Remove the session with its messages, runs, event logs and checkpoint thread."""
    from backend.runs.checkpoints import delete_thread
    from backend.runs.eventlog import get_event_log

    # Django clears an instance's pk once it is deleted: keep the thread ids before that.
    thread_ids = session_thread_ids(session_ids=[str(session.id)])
    thread_id = str(session.id)
    run_ids = [
        str(r) for r in Run.objects.filter(session_id=session.id).values_list("id", flat=True)
    ]
    for run in Run.objects.filter(session_id=session.id, status__in=Run.ACTIVE):
        run_services.run_cancel(run=run, reason="session deleted")
    _delete_rows(session_id=thread_id)
    log = get_event_log()
    for run_id in run_ids:
        log.delete(run_id=run_id)
    for thread in thread_ids:
        delete_thread(thread_id=thread)


def session_thread_ids(*, session_ids: list[str]) -> list[str]:
    """The checkpoint threads of these sessions: each session's own, and those of branches
    that start at the first message (an edit of it starts a thread of its own)."""
    branches = (
        ChatMessage.objects.filter(session_id__in=[uuid.UUID(str(s)) for s in session_ids])
        .exclude(thread_id="")
        .values_list("thread_id", flat=True)
        .distinct()
    )
    return sorted({*session_ids, *branches})


# A run that just ended may still be storing its last events (the terminal event's copy
# lands just after its status): a row added after the delete collected the run's events
# fails the commit on its foreign key. The delete is then made again, which takes it too.
DELETE_ATTEMPTS = 5


def _delete_rows(*, session_id: str) -> None:
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                Run.objects.filter(session_id=session_id).delete()
                ChatSession.objects.filter(pk=session_id).delete()
            return
        except IntegrityError:
            if attempt == DELETE_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


def message_post(
    *,
    session: ChatSession,
    identity: Identity,
    content: str,
    model: str | None = None,
    multitask: Multitask = "reject",
    edit_of: str | None = None,
    regenerate: str | None = None,
    content_field: str = "content",
) -> tuple[Run, ChatMessage]:
    """A new message under the session's current leaf, and the run that answers it.

    ``edit_of`` (a user message's id): the new message is a sibling of that one, and the
    conversation forks at the checkpoint before it. ``regenerate`` (an answer's id, or its
    question's): the question is answered again from the checkpoint before it, as a new
    sibling of the answer. Either way the session's current leaf moves to the new branch.
    A new text (not a regenerated one, checked when it was sent) is moderated first
    (``content_field`` names it in a refusal): nothing is recorded or reserved for a
    refused one.
    """
    if regenerate is not None:
        question = _message_in(session, regenerate, field="messageId")
        if question.role == ChatMessage.Role.ASSISTANT and question.parent is not None:
            question = question.parent
        content = question.content
    content = content.strip()
    if not content:
        raise ValidationError.for_field("content", "must not be empty")
    if len(content) > MAX_CONTENT_CHARS:
        raise ValidationError.for_field(
            "content", f"must be at most {MAX_CONTENT_CHARS} characters"
        )
    if regenerate is None:
        moderate({content_field: content}, identity=identity, feature="chat")
    model_id = model or session.model
    from backend.chat.limits import ANSWER_MAX_TOKENS

    check_call_allowed(
        identity=identity,
        model_id=model_id,
        feature="chat",
        session_id=str(session.id),
        prompt_text=content,
        max_tokens=ANSWER_MAX_TOKENS,
    )
    with transaction.atomic():
        locked = ChatSession.objects.select_for_update().get(pk=session.pk)
        active = session_active_run(session_id=str(locked.id))
        if active is not None and multitask == "reject":
            raise ConflictError(
                "A run is already active in this session; wait for it, cancel it, or send "
                "with multitask 'enqueue', 'interrupt' or 'rollback'.",
                details={"active_run_id": str(active.id)},
            )
        new_run_id = uuid.uuid4()
        rolled_back: ChatMessage | None = None
        if active is not None and multitask in ("interrupt", "rollback"):
            reason = "interrupted" if multitask == "interrupt" else "rolled back"
            for running in Run.objects.filter(session_id=locked.id, status__in=Run.ACTIVE):
                run_services.run_cancel(run=running, reason=f"{reason} by a new message")
            if multitask == "rollback":
                # As if the active run's question had never been sent: the new message is
                # another version of it, from the checkpoint before it (what was spent
                # stays in the ledger).
                rolled_back = (
                    ChatMessage.objects.filter(pk=active.input.get("message_id"), session=locked)
                    .select_related("parent")
                    .first()
                )
        # A session no message was ever sent to holds none (every message is sent here).
        first_message = locked.run_count == 0
        locked.run_count += 1
        if not locked.title:
            locked.title = content[:80]
        if regenerate is not None:
            message = _message_in(locked, regenerate, field="messageId")
            if message.role == ChatMessage.Role.ASSISTANT:
                if message.parent is None:
                    raise ValidationError.for_field("messageId", "this answer has no question")
                message = message.parent
            branch = _branch_point(locked, message.parent)
        else:
            if edit_of is not None:
                edited = _message_in(locked, edit_of, field="edit_of")
                if edited.role != ChatMessage.Role.USER:
                    raise ValidationError.for_field("edit_of", "must be one of your messages")
                parent = edited.parent
            elif rolled_back is not None:
                parent = rolled_back.parent
            else:
                parent = locked.current_leaf
            branch = _branch_point(locked, parent, empty=first_message)
            # The question names its run from the start (the run is recorded below).
            message = ChatMessage.objects.create(
                session=locked,
                role=ChatMessage.Role.USER,
                content=content,
                parent=parent,
                run_id=new_run_id,
            )
        locked.current_leaf = message
        locked.save(update_fields=["run_count", "title", "current_leaf", "updated_at"])
        run = run_services.run_create(
            kind=RUN_KIND,
            client_id=identity.client_id,
            model=model_id,
            input={
                "content": content,
                "message_id": str(message.id),
                "plan": identity.plan,
                "ip_hash": identity.ip_hash,
                "api_key_id": identity.api_key_id,
                **branch,
            },
            session_id=str(locked.id),
            ordinal=locked.run_count,
            queued_data={"message_id": str(message.id)},
            enqueue=False,
            run_id=new_run_id,
        )
        session_id = str(locked.id)
        if active is None:
            # Nothing queued or running before it (checked under the session's lock): this
            # run is the session's next, so it is enqueued without asking again.
            run_id = str(run.id)
            transaction.on_commit(lambda: run_services.run_hand_over(run_id=run_id, kind=RUN_KIND))
        else:
            transaction.on_commit(lambda: run_services.session_advance(session_id=session_id))
    capture(
        "chat_message_sent",
        distinct_id=identity.client_id,
        properties={"session_id": session_id, "model": model_id, "multitask": multitask},
    )
    return run, message


def _message_in(session: ChatSession, message_id: str, *, field: str) -> ChatMessage:
    try:
        found = (
            ChatMessage.objects.select_related("parent")
            .filter(pk=message_id, session=session)
            .first()
        )
    except (DjangoValidationError, ValueError):
        found = None
    if found is None:
        raise ValidationError.for_field(field, "no such message in this session")
    return found


def _branch_point(
    session: ChatSession, parent: ChatMessage | None, *, empty: bool = False
) -> dict[str, str]:
    """Where a run under ``parent`` starts in the checkpoints: the thread, and the
    checkpoint after ``parent``'s answer (omitted: the thread's newest state). ``empty``:
    the session is known to hold no message yet."""
    if parent is None:
        if empty or not ChatMessage.objects.filter(session=session).exists():
            return {"thread_id": str(session.id)}
        # A new first message: a branch with no history, on a thread of its own.
        return {"thread_id": f"{session.id}:{uuid.uuid4().hex[:12]}"}
    if parent.role == ChatMessage.Role.ASSISTANT and parent.checkpoint_id:
        return {"thread_id": parent.thread_id, "checkpoint_id": parent.checkpoint_id}
    # A question whose run left no answer, or an answer from before the tree: the thread's
    # newest state, as before.
    thread = parent.thread_id
    if not thread and parent.run_id:
        found = Run.objects.filter(pk=parent.run_id).values_list("input", flat=True).first()
        thread = (found or {}).get("thread_id", "")
    return {"thread_id": thread or str(session.id)}


def answer_to_regenerate(*, session: ChatSession, message_id: str | None) -> str:
    """What ``regenerate-message`` answers again: the message it names when it is one of
    the session's, else the branch's newest message (a client-made id names nothing)."""
    if message_id:
        try:
            if ChatMessage.objects.filter(pk=message_id, session=session).exists():
                return message_id
        except (DjangoValidationError, ValueError):
            pass
    leaf = (
        ChatSession.objects.filter(pk=session.pk).values_list("current_leaf_id", flat=True).first()
    )
    if leaf is None:
        raise ValidationError.for_field("messageId", "there is no answer to regenerate")
    return str(leaf)


def session_switch_branch(*, session: ChatSession, message_id: str) -> ChatSession:
    """Show the branch through ``message_id``: the leaf becomes its newest descendant."""
    with transaction.atomic():
        locked = ChatSession.objects.select_for_update().get(pk=session.pk)
        active = session_active_run(session_id=str(locked.id))
        if active is not None:
            raise ConflictError(
                "A run is active in this session; wait for it or cancel it first.",
                details={"active_run_id": str(active.id)},
            )
        leaf = _message_in(locked, message_id, field="message_id")
        while True:
            child = leaf.children.order_by("-created_at").first()
            if child is None:
                break
            leaf = child
        locked.current_leaf = leaf
        locked.save(update_fields=["current_leaf", "updated_at"])
    return locked


def session_for_ui_chat(*, client_id: str, chat_id: str, model: str) -> ChatSession:
    """The session an AI SDK chat id names (our uuid or the client's own id), created if new."""
    from django.db import IntegrityError

    from backend.chat.selectors import session_find_for_client

    found = session_find_for_client(client_id=client_id, chat_id=chat_id)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ChatSession.objects.create(client_id=client_id, external_id=chat_id, model=model)
    except IntegrityError:  # created by a concurrent request
        return ChatSession.objects.get(client_id=client_id, external_id=chat_id)


def session_set_webhook(*, session: ChatSession, url: str | None) -> str | None:
    """Set or clear the webhook; a new secret is returned (shown once) when one is set."""
    from backend.chat import webhooks

    previous = session.webhook_url
    if not url:
        with transaction.atomic():
            session.webhook_url, session.webhook_secret = "", ""
            session.save(update_fields=["webhook_url", "webhook_secret", "updated_at"])
            _audit_webhook(session, previous=previous)
        return None
    validated = webhooks.validate_url(url)
    with transaction.atomic():
        session.webhook_url = validated
        session.webhook_secret = webhooks.new_secret()
        session.save(update_fields=["webhook_url", "webhook_secret", "updated_at"])
        _audit_webhook(session, previous=previous)
    return session.webhook_secret


def _audit_webhook(session: ChatSession, *, previous: str) -> None:
    """Only the hosts are recorded: a webhook URL's path or query may carry a token."""
    from urllib.parse import urlsplit

    if not previous and not session.webhook_url:
        return  # cleared a webhook that was not set: nothing happened

    from backend.audit.actions import AuditAction
    from backend.audit.models import AuditEvent
    from backend.audit.services import audit_record

    audit_record(
        action=AuditAction.WEBHOOK_SET if session.webhook_url else AuditAction.WEBHOOK_CLEARED,
        actor=AuditEvent.Actor.CLIENT,
        client_id=session.client_id,
        target_type="chat.chatsession",
        target_id=session.id,
        metadata={
            "host": urlsplit(session.webhook_url).hostname if session.webhook_url else None,
            "previous_host": urlsplit(previous).hostname if previous else None,
        },
    )


def webhook_schedule(*, run: Run) -> None:
    """After a chat run ends: queue the signed summary for the session's webhook, if any."""
    from backend.chat.models import WebhookDelivery
    from backend.chat.tasks import webhook_deliver
    from backend.core.task_runner import enqueue_on_commit

    if run.session_id is None:
        return
    session = ChatSession.objects.filter(pk=run.session_id).exclude(webhook_url="").first()
    if session is None:
        return
    delivery = WebhookDelivery.objects.create(
        session=session,
        run_id=run.id,
        url=session.webhook_url,
        payload={
            "type": f"run.{run.status}",
            "run_id": str(run.id),
            "session_id": str(session.id),
            "status": run.status,
            "model": run.model,
            "usage": {
                "input_tokens": run.input_tokens,
                "output_tokens": run.output_tokens,
                "cost_usd": str(run.cost_usd),
            },
            "error": {"code": run.error_code, "message": run.error_message}
            if run.error_code
            else None,
            "result": run.result,
        },
    )
    enqueue_on_commit(webhook_deliver, delivery.pk)


def webhook_attempt(*, delivery_id: int) -> None:
    import httpx
    from django.utils import timezone

    from backend.chat import webhooks
    from backend.chat.models import WebhookDelivery
    from backend.chat.tasks import webhook_deliver
    from backend.core.task_runner import enqueue

    delivery = WebhookDelivery.objects.select_related("session").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return
    delivery.attempts += 1
    retry = True
    try:
        code = webhooks.deliver(
            url=delivery.url, secret=delivery.session.webhook_secret, payload=delivery.payload
        )
        delivery.last_status_code, delivery.last_error = code, ""
        if 200 <= code < 300:
            delivery.status, delivery.delivered_at, retry = "delivered", timezone.now(), False
    except webhooks.UnsafeTarget as exc:
        delivery.last_error, delivery.status, retry = f"refused: {exc}", "failed", False
    except httpx.HTTPError as exc:
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if retry and delivery.attempts >= webhooks.MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save()
    if delivery.status == WebhookDelivery.Status.PENDING:
        delay = webhooks.BACKOFF_BASE_S * 2 ** (delivery.attempts - 1)
        enqueue(webhook_deliver, delivery.pk, countdown=delay)
