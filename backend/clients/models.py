import uuid

from django.conf import settings
from django.db import models


class Plan(models.TextChoices):
    ANONYMOUS = "anonymous", "Anonymous"
    FREE = "free", "Free API key"
    PAID = "paid", "Paid API key"


class Client(models.Model):
    """Whoever calls the API: an anonymous browser (signed token) or an API key holder."""

    class Kind(models.TextChoices):
        ANONYMOUS = "anonymous", "Anonymous"
        API_KEY = "api_key", "API key"
        ACCOUNT = "account", "Account"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ANONYMOUS)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.ANONYMOUS)
    # Salted hash of the network address at creation (clients/identity.py:ip_hash): an
    # abuse key, never an identity. Hashes stored by earlier versions also mixed in the
    # User-Agent; they simply match no new request.
    created_ip_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Approvals(models.TextChoices):
        COSTLY = "costly", "Ask before a step over the threshold"
        ALWAYS = "always", "Ask before every tool call"
        NEVER = "never", "Never ask"

    # When the agent stops for the creator's approval before a step (backend.chat.approvals).
    approvals = models.CharField(max_length=8, choices=Approvals.choices, default=Approvals.COSTLY)
    # A step whose worst case costs more asks first; null: APPROVAL_THRESHOLD_USD.
    approval_threshold_usd = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


class ApiKey(models.Model):
    """An ``isk_`` key: shown once, stored as a SHA-256 hash, with its own client and plan."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="api_key")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key")
    key_hash = models.CharField(max_length=64, unique=True)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    # May read service-wide admin reports (/api/admin/...).
    is_admin = models.BooleanField(default=False)
    # A self-serve key acts as its owner's account (its plan, budgets and data).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
