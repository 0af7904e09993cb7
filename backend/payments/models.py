import uuid

from django.db import models


class StripeEvent(models.Model):
    """Every webhook delivery, stored before anything else happens (unique Stripe event id).

    Invalid deliveries (bad signature, stale timestamp, unparsable body) are stored too,
    with no event id, so they can be looked at; nothing is ever fulfilled from them.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received, not yet processed"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled or nothing to do)"
        UNMATCHED = "unmatched", "No account matches"
        FAILED = "failed", "Processing failed"
        INVALID = "invalid", "Invalid (signature, timestamp or body)"

    event_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    type = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    # Stripe's ``created`` (epoch seconds): orders events about the same object.
    stripe_created = models.BigIntegerField(null=True, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField(null=True, blank=True)
    # The raw body of an invalid delivery (truncated), since it may not be JSON.
    raw_body = models.TextField(blank=True)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stripe_events",
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id or 'invalid'} {self.type} ({self.status})"


class CheckoutSession(models.Model):
    """One checkout attempt: created here first, then at Stripe with its idempotency key."""

    class Mode(models.TextChoices):
        PAYMENT = "payment", "One-off payment (credit pack)"
        SUBSCRIPTION = "subscription", "Subscription"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checkout_sessions",
    )
    stripe_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    price_key = models.CharField(max_length=64)
    price_id = models.CharField(max_length=100)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    credits_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    url = models.URLField(max_length=2000, blank=True)
    # Stripe's view of the session, as last seen (webhook or sync).
    status = models.CharField(max_length=16, blank=True)
    payment_status = models.CharField(max_length=32, blank=True)
    payment_intent_id = models.CharField(max_length=100, blank=True, db_index=True)
    subscription_id = models.CharField(max_length=100, blank=True)
    amount_total = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.price_key} {self.stripe_session_id or self.id}"


class Subscription(models.Model):
    """A Stripe subscription as last known; the account is on ``pro`` while it is live."""

    LIVE_STATUSES = ("active", "trialing", "past_due")

    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
    )
    status = models.CharField(max_length=32)
    price_key = models.CharField(max_length=64, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # A refunded or disputed payment withdraws the plan until a later payment restores it.
    revoked = models.BooleanField(default=False)
    # ``created`` of the newest Stripe event applied: older events never overwrite newer.
    state_as_of = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES and not self.revoked


class CreditEntry(models.Model):
    """The credits ledger: the balance is the sum of an account's entries, never stored.

    ``reference`` makes each entry happen once: the checkout session for a purchase, the
    charge and refunded amount for a refund, the dispute for a dispute, the guard's
    reservation for usage.
    """

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Credit pack purchased"
        REFUND = "refund", "Taken back: refund"
        DISPUTE = "dispute", "Taken back: dispute"
        USAGE = "usage", "Drawn by model calls"
        ADJUSTMENT = "adjustment", "Adjusted by staff"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="credit_entries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_usd = models.DecimalField(max_digits=14, decimal_places=6)
    reference = models.CharField(max_length=255)
    event = models.ForeignKey(
        StripeEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="uniq_credit_entry")
        ]
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_usd} ({self.reference})"
