from __future__ import annotations

from typing import Literal

from django.db import transaction

from backend.analytics.events import capture
from backend.chat.models import ChatMessage, ChatSession
from backend.chat.selectors import session_active_run
from backend.clients.identity import Identity
from backend.core.errors import ConflictError, ValidationError
from backend.guard.entry import check_call_allowed
from backend.runs import services as run_services
from backend.runs.models import Run

MAX_CONTENT_CHARS = 8_000
MAX_TITLE_CHARS = 200
Multitask = Literal["reject", "enqueue", "interrupt"]


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

    run_ids = [
        str(r) for r in Run.objects.filter(session_id=session.id).values_list("id", flat=True)
    ]
    for run in Run.objects.filter(
        session_id=session.id, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]
    ):
        run_services.run_cancel(run=run, reason="session deleted")
    with transaction.atomic():
        Run.objects.filter(session_id=session.id).delete()
        session.delete()
    log = get_event_log()
    for run_id in run_ids:
        log.delete(run_id=run_id)
    delete_thread(thread_id=str(session.id))


def message_post(
    *,
    session: ChatSession,
    identity: Identity,
    content: str,
    model: str | None = None,
    multitask: Multitask = "reject",
) -> tuple[Run, ChatMessage]:
    content = content.strip()
    if not content:
        raise ValidationError.for_field("content", "must not be empty")
    if len(content) > MAX_CONTENT_CHARS:
        raise ValidationError.for_field(
            "content", f"must be at most {MAX_CONTENT_CHARS} characters"
        )
    model_id = model or session.model
    from backend.chat.runtime import ANSWER_MAX_TOKENS

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
                "with multitask 'enqueue' or 'interrupt'.",
                details={"active_run_id": str(active.id)},
            )
        if active is not None and multitask == "interrupt":
            for running in Run.objects.filter(
                session_id=locked.id, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]
            ):
                run_services.run_cancel(run=running, reason="interrupted by a new message")
        locked.run_count += 1
        if not locked.title:
            locked.title = content[:80]
        locked.save(update_fields=["run_count", "title", "updated_at"])
        message = ChatMessage.objects.create(
            session=locked, role=ChatMessage.Role.USER, content=content
        )
        run = run_services.run_create(
            kind=Run.Kind.CHAT,
            client_id=identity.client_id,
            model=model_id,
            input={
                "content": content,
                "message_id": str(message.id),
                "plan": identity.plan,
                "ip_hash": identity.ip_hash,
                "api_key_id": identity.api_key_id,
            },
            session_id=str(locked.id),
            ordinal=locked.run_count,
            queued_data={"message_id": str(message.id)},
            enqueue=False,
        )
        ChatMessage.objects.filter(pk=message.pk).update(run_id=run.id)
        session_id = str(locked.id)
        transaction.on_commit(lambda: run_services.session_advance(session_id=session_id))
    capture(
        "chat_message_sent",
        distinct_id=identity.client_id,
        properties={"session_id": session_id, "model": model_id, "multitask": multitask},
    )
    return run, message


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
