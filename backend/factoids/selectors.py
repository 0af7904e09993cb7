from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery

from backend.core.errors import NotFoundError
from backend.factoids import curated
from backend.factoids.models import RUN_KIND, Factoid, FactoidVote
from backend.factoids.text import is_near_duplicate, text_hash
from backend.runs.models import Run

Ordering = Literal["-created_at", "-score"]
PENDING_STATUSES = (Run.Status.QUEUED, Run.Status.RUNNING)
PUBLIC = Factoid.Visibility.PUBLIC
PRIVATE = Factoid.Visibility.PRIVATE


def public_factoids() -> QuerySet[Factoid]:
    """What anyone may see or be influenced by: the feed's factoids, hidden ones included."""
    return Factoid.objects.filter(visibility=PUBLIC)


def factoid_list(
    *,
    client_id: str,
    subject: str | None = None,
    min_score: int | None = None,
    ordering: Ordering = "-created_at",
    private: bool = False,
) -> QuerySet[Factoid]:
    """The visible feed with each factoid's score and the caller's own vote (1, -1 or None);
    ``private``: instead the caller's own private factoids (saved by the agent in chat)."""
    own_vote = FactoidVote.objects.filter(factoid=OuterRef("pk"), client_id=client_id).values(
        "value"
    )[:1]
    listed = (
        Factoid.objects.filter(visibility=PRIVATE, client_id=client_id)
        if private
        else public_factoids().filter(hidden=False)
    )
    factoids = listed.annotate(
        score_value=F("up") - F("down"),
        own_vote=Subquery(own_vote, output_field=IntegerField()),
    )
    if subject:
        factoids = factoids.filter(subject=subject)
    if min_score is not None:
        factoids = factoids.filter(score_value__gte=min_score)
    if ordering == "-score":
        return factoids.order_by("-score_value", "-created_at", "-id")
    return factoids.order_by("-created_at", "-id")


def factoid_get_visible(*, factoid_uuid: str) -> Factoid:
    """A factoid readers can vote on; unknown, malformed, hidden and private ones are 404."""
    try:
        factoid = public_factoids().filter(uuid=factoid_uuid, hidden=False).first()
    except (DjangoValidationError, ValueError):
        factoid = None
    if factoid is None:
        raise NotFoundError("No such factoid.")
    return factoid


def factoid_get(*, factoid_uuid: str) -> Factoid:
    """Any factoid, hidden or not (staff)."""
    try:
        factoid = Factoid.objects.filter(uuid=factoid_uuid).first()
    except (DjangoValidationError, ValueError):
        factoid = None
    if factoid is None:
        raise NotFoundError("No such factoid.")
    return factoid


def factoid_request_get_for_client(*, request_id: str, client_id: str) -> Run:
    """A factoid generation (a run of kind factoid) of this client; anyone else's is 404."""
    try:
        run = Run.objects.filter(pk=request_id, client_id=client_id, kind=RUN_KIND).first()
    except (DjangoValidationError, ValueError):
        run = None
    if run is None:
        raise NotFoundError("No such factoid request.")
    return run


def factoid_pending_request(*, client_id: str, subject: str) -> Run | None:
    return (
        Run.objects.filter(
            client_id=client_id,
            kind=RUN_KIND,
            status__in=PENDING_STATUSES,
            input__subject=subject,
        )
        .order_by("created_at")
        .first()
    )


def factoid_for_run(*, run_id: str) -> Factoid | None:
    return Factoid.objects.filter(run_id=run_id, source=Factoid.Source.FEED).first()


def factoid_texts(*, subject: str) -> list[str]:
    """Every feed text on the subject, hidden ones too: a hidden fact must not return.
    (Private texts stay out: they would reach the prompt of another client's generation.)"""
    return list(public_factoids().filter(subject=subject).values_list("text", flat=True))


def factoid_find_duplicate(
    *, subject: str, text: str, private_to: str | None = None
) -> Factoid | None:
    """A stored factoid on the subject with the same normalised text, or one nearly equal:
    among the feed's, or with ``private_to`` among that client's private ones only."""
    factoids = (
        Factoid.objects.filter(visibility=PRIVATE, client_id=private_to, subject=subject)
        if private_to is not None
        else public_factoids().filter(subject=subject)
    )
    exact = factoids.filter(text_hash=text_hash(text)).first()
    if exact is not None:
        return exact
    for candidate in factoids.only("id", "uuid", "text"):
        if is_near_duplicate(candidate.text, text):
            return candidate
    return None


def factoid_least_covered_subject() -> str:
    """The curated subject with the fewest feed factoids (ties: the list's order)."""
    counts = dict(
        public_factoids()
        .filter(subject__in=curated.SUBJECTS)
        .values_list("subject")
        .annotate(n=Count("id"))
        .values_list("subject", "n")
    )
    return min(curated.SUBJECTS, key=lambda subject: counts.get(subject, 0))


def factoid_offline_pick(*, subject: str) -> str | None:
    """The first bundled fact on the subject that is not stored yet (deterministic)."""
    stored = factoid_texts(subject=subject)
    for fact in curated.offline_facts(subject):
        if not any(is_near_duplicate(fact, text) for text in stored):
            return fact
    return None
