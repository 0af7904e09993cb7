from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

from backend.chat.models import Approval, ChatMessage, ChatSession
from backend.core.errors import NotFoundError
from backend.runs.models import Run


def session_list(*, client_id: str) -> QuerySet[ChatSession]:
    return ChatSession.objects.filter(client_id=client_id).order_by("-created_at")


def session_get_for_client(*, session_id: str, client_id: str) -> ChatSession:
    try:
        session = ChatSession.objects.filter(pk=session_id, client_id=client_id).first()
    except (DjangoValidationError, ValueError):
        session = None
    if session is None:
        raise NotFoundError("No such chat session.")
    return session


def session_transcript(*, session: ChatSession) -> dict:
    """The branch on screen (from the first message to the session's current leaf), each
    message with its siblings (the other versions: edits of a question, regenerated
    answers); every run of the session, whatever its branch (what was spent stays)."""
    messages = list(ChatMessage.objects.filter(session=session).order_by("created_at"))
    runs = list(Run.objects.filter(session_id=session.id).order_by("ordinal"))
    return {
        "messages": current_branch(messages, leaf_id=session.current_leaf_id),
        "runs": runs,
        "totals": {
            "input_tokens": sum(run.input_tokens for run in runs),
            "output_tokens": sum(run.output_tokens for run in runs),
            "cost_usd": str(sum((run.cost_usd for run in runs), start=0)),
        },
    }


def session_active_run(*, session_id: str) -> Run | None:
    return (
        Run.objects.filter(session_id=session_id, status__in=Run.ACTIVE).order_by("ordinal").first()
    )


def session_find_for_client(*, client_id: str, chat_id: str) -> ChatSession | None:
    """The client's session whose id, or else whose own (external) id, is ``chat_id``:
    one query for both."""
    sessions = ChatSession.objects.filter(client_id=client_id)
    try:
        as_id = uuid.UUID(str(chat_id))
    except ValueError:
        return sessions.filter(external_id=chat_id).first()
    found = list(sessions.filter(Q(pk=as_id) | Q(external_id=chat_id))[:2])
    by_id = [session for session in found if session.pk == as_id]
    matches = by_id or found
    return matches[0] if matches else None


def approvals_for_run(*, run_id: str, client_id: str) -> list[Approval]:
    """Another client's run has none (it looks unknown, as its other routes do)."""
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        return []
    return list(Approval.objects.filter(run_id=run_id, client_id=client_id))


def approval_run_id(*, approval_id: str, client_id: str) -> str:
    """The run an approval of this client's belongs to (404 otherwise)."""
    try:
        uuid.UUID(str(approval_id))
    except ValueError:
        raise NotFoundError("No such approval.") from None
    run_id = (
        Approval.objects.filter(pk=approval_id, client_id=client_id)
        .values_list("run_id", flat=True)
        .first()
    )
    if run_id is None:
        raise NotFoundError("No such approval.")
    return str(run_id)


def run_waited_at_seq(*, run_id: str) -> int:
    """The seq of the run's latest ``run.waiting`` (0 if it never waited)."""
    from django.db.models import Max

    from backend.runs.models import RunEvent

    found = RunEvent.objects.filter(run_id=run_id, type="run.waiting").aggregate(last=Max("seq"))
    return int(found["last"] or 0)


def current_branch(messages: list[ChatMessage], *, leaf_id: Any) -> list[ChatMessage]:
    """The path to ``leaf_id`` through ``messages`` (all of a session's), oldest first;
    each message gets ``siblings``: ``{index, count, ids}`` among the versions in its
    place (same parent, same role), oldest first."""
    by_id: dict[Any, ChatMessage] = {message.id: message for message in messages}
    versions: dict[tuple[Any, str], list[ChatMessage]] = {}
    for message in messages:
        versions.setdefault((message.parent_id, message.role), []).append(message)
    branch: list[ChatMessage] = []
    at = by_id.get(leaf_id)
    while at is not None and len(branch) <= len(messages):
        branch.append(at)
        at = by_id.get(at.parent_id)
    branch.reverse()
    for message in branch:
        same_place = versions[(message.parent_id, message.role)]
        message.siblings = {  # type: ignore[attr-defined]
            "index": same_place.index(message) + 1,
            "count": len(same_place),
            "ids": [str(m.id) for m in same_place],
        }
    return branch
