import uuid

from django.db import models

# The kind of the runs a chat message starts (driven by ``backend.chat.driver``).
RUN_KIND = "chat"


class ChatSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField(max_length=64, db_index=True)
    # The id a client chose (the AI SDK's useChat makes its own ids); unique per client.
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200)
    # Runs are numbered within the session (the first half of a session stream cursor).
    run_count = models.PositiveIntegerField(default=0)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    # The transcript is a tree (edits and regenerations branch it): the message the branch
    # on screen ends with; a new message goes under it.
    current_leaf = models.ForeignKey(
        "ChatMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_chat_external_id_per_client",
            )
        ]

    def __str__(self) -> str:
        return self.title or str(self.id)


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    # The message this one answers or follows (None: the first of its branch).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    run_id = models.UUIDField(null=True, blank=True, db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    tool_results = models.JSONField(default=list, blank=True)
    # An answer cut short by the client's stop: ``content`` is what streamed until then.
    stopped = models.BooleanField(default=False)
    # An answer's place in the agent's checkpoints: the state after it, which a message
    # sent under it continues from (a fork when it is not the thread's newest).
    thread_id = models.CharField(max_length=100, blank=True)
    checkpoint_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class WebhookDelivery(models.Model):
    """One run summary to deliver to a session's webhook, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="deliveries")
    run_id = models.UUIDField()
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.url} ({self.status}, {self.attempts} attempts)"


class Approval(models.Model):
    """A tool call a run waits to have approved (``backend.chat.approvals``)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        EXPIRED = "expired"

    # uuid5 of the run and the call: asking again (a resumed node) finds the same row.
    id = models.UUIDField(primary_key=True, editable=False)
    run_id = models.UUIDField(db_index=True)
    client_id = models.CharField(max_length=64)
    call_id = models.CharField(max_length=100)
    name = models.CharField(max_length=64)
    args = models.JSONField(default=dict)
    # What was asked: why, and the estimate ({model, worst_case_usd, youtube_units}).
    reason = models.CharField(max_length=200, blank=True)
    estimate = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # The answer: the arguments to run with (edited or as asked) and why, if denied.
    decided_args = models.JSONField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
