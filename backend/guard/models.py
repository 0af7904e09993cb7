from django.db import models


class DailySpendSnapshot(models.Model):
    """A finished UTC day's total for one budget bucket, archived from the live store."""

    day = models.DateField()
    bucket = models.CharField(max_length=200)
    spent_usd = models.DecimalField(max_digits=14, decimal_places=6)
    reserved_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    archived_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "bucket"], name="uniq_day_bucket")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.bucket}: {self.spent_usd}"


class GuardEvent(models.Model):
    """Refusals and warnings (rate limited, budget exceeded, soft limit) for the admin."""

    class Kind(models.TextChoices):
        RATE_LIMITED = "rate_limited"
        BUDGET_EXCEEDED = "budget_exceeded"
        SOFT_LIMIT = "soft_limit"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    client_id = models.CharField(max_length=64, blank=True)
    bucket = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.bucket} {self.created_at:%Y-%m-%d %H:%M}"


class LlmCall(models.Model):
    """The ledger: one row per settled model call attempt.

    ``estimated``: the call ended before the provider reported its usage, so its cost is
    the reservation's worst case until the reconciliation job learns the billed cost by
    ``generation_id`` (then ``reconciled_at`` is set). ``settle_pending``: the budget
    store could not record the settle; the job completes it. Both keep ``settlement``,
    the reservation's buckets (``agents.guard.settlement``), for that later write. A
    reservation whose holder died is recorded when it expires, estimated, by its id.
    """

    run_id = models.CharField(max_length=64, blank=True, db_index=True)
    reservation_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    generation_id = models.CharField(max_length=200, blank=True)
    estimated = models.BooleanField(default=False)
    settle_pending = models.BooleanField(default=False)
    settlement = models.JSONField(default=dict, blank=True)
    reconcile_attempts = models.PositiveSmallIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    client_id = models.CharField(max_length=64, db_index=True)
    session_id = models.CharField(max_length=64, blank=True)
    plan = models.CharField(max_length=16)
    feature = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    reserved_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    is_error = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    # SHA-256 (hex) of the prompt messages as sent (``agents.models.prompt_hash``): the same
    # prompt, the same hash; empty for calls recorded without one (an expired reservation).
    prompt_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            # The reconciliation job's two queues stay small: index only their rows.
            models.Index(
                fields=["created_at"],
                condition=models.Q(estimated=True, reconciled_at__isnull=True),
                name="llmcall_estimated_open",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(settle_pending=True),
                name="llmcall_settle_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.cost_usd} ({self.feature})"
