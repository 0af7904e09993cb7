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
    """The ledger: one row per settled model call attempt."""

    run_id = models.CharField(max_length=64, blank=True, db_index=True)
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
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.model} {self.cost_usd} ({self.feature})"
