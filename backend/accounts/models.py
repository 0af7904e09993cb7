import uuid

from django.conf import settings
from django.db import models


class AccountPlan(models.TextChoices):
    """What an account pays for; the guard reads its budgets and rate limits by this name."""

    FREE = "free", "Free"
    PRO = "pro", "Pro subscription"


class Account(models.Model):
    """A person who signed up: a Django user, with its own client so budgets and data key on it.

    Everything the API stores per client (sessions, runs, history, channels, votes) is
    stored under ``client``; signing up or logging in moves the anonymous client's rows
    there (see ``services.attach``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account"
    )
    client = models.OneToOneField(
        "clients.Client", on_delete=models.PROTECT, related_name="account"
    )
    plan = models.CharField(max_length=16, choices=AccountPlan.choices, default=AccountPlan.FREE)
    stripe_customer_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.user.email} ({self.plan})"

    @property
    def email(self) -> str:
        return str(self.user.email)


class AttachedClient(models.Model):
    """An anonymous client whose data was moved to the account (at signup or login)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="attached")
    client_id = models.CharField(max_length=64, db_index=True)
    attached_at = models.DateTimeField(auto_now_add=True)
    moved = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.client_id} → {self.account_id}"


class RevokedToken(models.Model):
    """A logged-out access token (by ``jti``) or login (by ``sid``), refused until expiry."""

    class Kind(models.TextChoices):
        JTI = "jti", "Access token"
        SID = "sid", "Login session"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="uniq_revoked_token")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class PosthogDeletionRequest(models.Model):
    """A deleted account's PostHog distinct ids, and the person deletion sent to PostHog
    for them (``services.posthog_deletion``).

    ``pending`` until sent (``last_error`` says why not yet: PostHog's private API not
    configured, or the last failure), ``sent`` once PostHog deleted the persons, ``failed``
    after a failed attempt: retried at ``next_attempt_at``, or given up when that is empty.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    account_id = models.UUIDField()
    distinct_ids = models.JSONField(default=list)
    requested_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)  # when PostHog confirmed
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"PostHog deletion for {self.account_id}"
