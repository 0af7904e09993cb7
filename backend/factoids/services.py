from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import F

from backend.analytics.events import capture
from backend.clients.identity import Identity
from backend.clients.models import Client
from backend.core.errors import ConflictError, ValidationError
from backend.factoids import curated, selectors
from backend.factoids.models import RUN_KIND, Factoid, FactoidFeedback, FactoidVote
from backend.factoids.text import normalise_subject, sanitise, text_hash
from backend.guard.entry import check_call_allowed
from backend.moderation.services import moderate
from backend.runs import services as run_services
from backend.runs.models import Run

MAX_SUBJECT_CHARS = 100
MAX_FEEDBACK_CHARS = 2000
# Room for the JSON wrapper around a 280-character factoid, with some slack.
GENERATION_MAX_TOKENS = 300

Vote = Literal["up", "down", "none"]
VOTE_VALUES: dict[str, int] = {"up": FactoidVote.Value.UP, "down": FactoidVote.Value.DOWN}
VOTE_NAMES = {value: name for name, value in VOTE_VALUES.items()}


class DuplicateFactoid(Exception):
    def __init__(self, existing: Factoid) -> None:
        super().__init__(existing.text)
        self.existing = existing


@dataclass(frozen=True, kw_only=True)
class VoteAggregate:
    factoid: Factoid
    vote: str | None  # the caller's vote after the change


def subject_clean(subject: str) -> str:
    cleaned = normalise_subject(subject)
    if not cleaned:
        raise ValidationError.for_field("subject", "must not be empty")
    if len(cleaned) > MAX_SUBJECT_CHARS:
        raise ValidationError.for_field(
            "subject", f"must be at most {MAX_SUBJECT_CHARS} characters"
        )
    return cleaned


def factoid_generate_request(
    *, identity: Identity, model_id: str, subject: str | None = None
) -> Run:
    """Moderate the subject given, check the guard, then queue a ``factoid`` run; 409 while
    one is pending on the subject."""
    chosen = (
        subject_clean(subject) if subject is not None else selectors.factoid_least_covered_subject()
    )
    if subject is not None:
        moderate({"subject": chosen}, identity=identity, feature="factoid")
    if model_id == "offline" and chosen not in curated.SUBJECTS:
        raise ValidationError.for_field(
            "subject",
            "the offline model knows facts only about: " + ", ".join(curated.SUBJECTS),
        )
    check_call_allowed(
        identity=identity,
        model_id=model_id,
        feature="factoid",
        prompt_text=chosen,
        max_tokens=GENERATION_MAX_TOKENS,
    )
    with transaction.atomic():
        # One pending generation per client and subject, even when requests race.
        Client.objects.select_for_update().filter(pk=identity.client_id).first()
        pending = selectors.factoid_pending_request(client_id=identity.client_id, subject=chosen)
        if pending is not None:
            raise ConflictError(
                "A factoid on this subject is already being generated for you; wait for it.",
                details={"request_id": str(pending.id), "subject": chosen},
            )
        return run_services.run_create(
            kind=RUN_KIND,
            client_id=identity.client_id,
            model=model_id,
            input={
                "subject": chosen,
                "plan": identity.plan,
                "ip_hash": identity.ip_hash,
                "api_key_id": identity.api_key_id,
            },
            queued_data={"subject": chosen},
        )


def factoid_store(
    *,
    subject: str,
    text: str,
    model: str,
    source: str,
    client_id: str = "",
    run_id: str | None = None,
    source_video_ids: Sequence[str] = (),
    private: bool = False,
) -> Factoid:
    """Store a sanitised factoid; ``DuplicateFactoid`` when the subject already has it (in
    the feed, or for a ``private`` one among the same client's private factoids)."""
    existing = selectors.factoid_find_duplicate(
        subject=subject, text=text, private_to=client_id if private else None
    )
    if existing is not None:
        raise DuplicateFactoid(existing)
    visibility = Factoid.Visibility.PRIVATE if private else Factoid.Visibility.PUBLIC
    try:
        with transaction.atomic():
            return Factoid.objects.create(
                subject=subject,
                text=text,
                text_hash=text_hash(text),
                model=model,
                source=source,
                client_id=client_id,
                run_id=run_id,
                source_video_ids=list(source_video_ids),
                visibility=visibility,
            )
    except IntegrityError:  # the same text stored by a concurrent feed generation
        raise DuplicateFactoid(
            selectors.public_factoids().get(subject=subject, text_hash=text_hash(text))
        ) from None


def factoid_save_from_chat(
    *, client_id: str, topic: str, text: str, model: str, source_video_ids: Sequence[str] = ()
) -> Factoid:
    """The agent's factoid tool (source ``chat``): built from the client's own channel
    data, so stored private to that client, never in the feed; an equal private factoid of
    theirs on the topic is the one kept."""
    clean_text = sanitise(text)
    if not clean_text:
        raise ValueError("The factoid is empty once markup is removed.")
    subject = normalise_subject(topic)[:MAX_SUBJECT_CHARS] or "general"
    try:
        return factoid_store(
            subject=subject,
            text=clean_text,
            model=model,
            source=Factoid.Source.CHAT,
            client_id=client_id,
            source_video_ids=source_video_ids,
            private=True,
        )
    except DuplicateFactoid as duplicate:
        return duplicate.existing


def factoid_vote(*, factoid: Factoid, client_id: str, vote: Vote) -> VoteAggregate:
    """Set, change or withdraw (``none``) the client's one vote; counts stay exact because
    every change to a factoid's votes happens under its row lock."""
    if vote not in ("up", "down", "none"):
        raise ValidationError.for_field("vote", "must be 'up', 'down' or 'none'")
    new = VOTE_VALUES.get(vote, 0)
    with transaction.atomic():
        locked = Factoid.objects.select_for_update().get(pk=factoid.pk)
        row = FactoidVote.objects.filter(factoid=locked, client_id=client_id).first()
        old = row.value if row is not None else 0
        if old != new:
            if new == 0:
                FactoidVote.objects.filter(pk=row.pk).delete()  # type: ignore[union-attr]
            elif row is None:
                FactoidVote.objects.create(factoid=locked, client_id=client_id, value=new)
            else:
                FactoidVote.objects.filter(pk=row.pk).update(value=new)
            Factoid.objects.filter(pk=locked.pk).update(
                up=F("up") + (int(new == 1) - int(old == 1)),
                down=F("down") + (int(new == -1) - int(old == -1)),
            )
            locked.refresh_from_db(fields=["up", "down"])
    if old != new:
        capture(
            "factoid_voted",
            distinct_id=client_id,
            properties={
                "factoid_id": str(locked.uuid),
                "vote": vote,
                "previous": VOTE_NAMES.get(old, "none"),
                "subject": locked.subject,
            },
        )
    return VoteAggregate(factoid=locked, vote=VOTE_NAMES.get(new))


def factoid_feedback_create(
    *, factoid: Factoid, client_id: str, text: str, vote: Vote | None = None
) -> FactoidFeedback:
    """Text feedback; a vote sent with it is applied too, and the feedback records the
    client's vote as it then stands."""
    text = text.strip()
    if not text:
        raise ValidationError.for_field("text", "must not be empty")
    if len(text) > MAX_FEEDBACK_CHARS:
        raise ValidationError.for_field("text", f"must be at most {MAX_FEEDBACK_CHARS} characters")
    if vote is not None:
        current = factoid_vote(factoid=factoid, client_id=client_id, vote=vote).vote
    else:
        value = (
            FactoidVote.objects.filter(factoid=factoid, client_id=client_id)
            .values_list("value", flat=True)
            .first()
        )
        current = VOTE_NAMES.get(value) if value is not None else None
    feedback = FactoidFeedback.objects.create(
        factoid=factoid, client_id=client_id, vote=current or "", text=text
    )
    capture(
        "factoid_feedback",
        distinct_id=client_id,
        properties={
            "factoid_id": str(factoid.uuid),
            "vote": current or "none",
            "length": len(text),
        },
    )
    return feedback


def factoid_hide(*, factoid: Factoid, hidden: bool = True) -> Factoid:
    Factoid.objects.filter(pk=factoid.pk).update(hidden=hidden)
    factoid.hidden = hidden
    return factoid
