"""Approval before a costly step: which tool calls wait for the creator, and their answers.

The agent graph's ``approve`` node asks ``ApprovalPolicy`` about each planned call; when it
names any, the graph stops with an interrupt, the chat driver records one ``Approval`` per
call (``approvals_request``), emits ``approval.requested`` and parks the run (``waiting``:
no worker, no lease, no budget reservation). ``approval_resolve`` records the answer; once
the run has none pending it is queued again, and the driver resumes the graph with the
decisions. An approval unanswered for ``APPROVAL_TTL_S`` expires and its run is cancelled
(``approvals_expire``, on the reaper's schedule).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.context import MODEL_CALL
from agents.guard import ModelPrice
from agents.guard.interface import CallMeta
from agents.guard.outage import outlasting_store_outage
from agents.guard.pricing import micros_to_usd, worst_case_micros
from agents.tools import ALL_TOOLS, ToolFailure
from agents.tools.base import AgentTool
from backend.chat import limits
from backend.chat.models import Approval
from backend.clients.identity import Identity
from backend.clients.models import Client
from backend.core.errors import ConflictError, NotFoundError, ValidationError
from backend.guard.instance import get_guard
from backend.moderation.services import moderate_tool_args
from backend.runs.emitter import RunEmitter
from backend.runs.models import Run
from backend.runs.services import run_cancel, run_resume, session_advance

logger = structlog.get_logger(__name__)

# A tool's own model call is priced at the guard's worst case: this many prompt tokens (its
# system prompt and the data it sends; the largest measured is under 3,000) and the
# answer's ``max_tokens``.
TOOL_PROMPT_TOKENS = 4_000
# YouTube Data API: search.list costs 100 quota units.
YOUTUBE_SEARCH_UNITS = 100
TOOLS = {tool.name: tool for tool in ALL_TOOLS}


class ApprovalPolicy:
    """The client's rule (``Client.approvals``). ``costly`` asks before a step whose worst
    case exceeds the threshold, whose YouTube quota exceeds ``APPROVAL_YOUTUBE_UNITS``, or
    that would take one of the client's own budgets past its soft limit; ``always`` also
    asks before every tool call; ``never`` never asks. A step is a tool call or one of the
    agent's own model calls (plan, respond), priced as the guard reserves it."""

    def __init__(
        self, *, mode: str, threshold_usd: Decimal, price: ModelPrice, youtube_units_limit: int
    ) -> None:
        self.mode = mode
        self.threshold_usd = threshold_usd
        self.price = price
        self.youtube_units_limit = youtube_units_limit

    def estimate(self, tool: AgentTool[Any, Any], args: dict[str, Any]) -> dict[str, Any]:
        per_call = worst_case_micros(
            model=self.price,
            prompt_tokens_upper_bound=TOOL_PROMPT_TOKENS,
            max_tokens=limits.ANSWER_MAX_TOKENS,
        )
        searches = 0
        if tool.cost.youtube_search:
            searches = (
                settings.ENV.YOUTUBE_KEYWORD_SAMPLE_SIZE if tool.name == "keyword_research" else 1
            )
        # Paid images at the first paid provider's price (the chain may fall back to free ones).
        images = tool.images(args) if paid_images() else 0
        image_usd = images * settings.ENV.REPLICATE_PRICE_PER_IMAGE_USD
        estimate: dict[str, Any] = {
            "model": self.price.model_id,
            "worst_case_usd": float(micros_to_usd(per_call * tool.cost.model_calls) + image_usd),
            "youtube_units": searches * YOUTUBE_SEARCH_UNITS,
        }
        if images:
            estimate["paid_images"] = images
        return estimate

    async def check_tool(
        self, tool: AgentTool[Any, Any], *, args: dict[str, Any], meta: CallMeta
    ) -> dict[str, Any] | None:
        if self.mode == Client.Approvals.NEVER:
            return None
        estimate = self.estimate(tool, args)
        if self.mode == Client.Approvals.ALWAYS:
            return {"reason": "you asked to approve every step", "estimate": estimate}
        return await self._decide(
            estimate,
            meta=meta,
            prompt_tokens=TOOL_PROMPT_TOKENS,
            max_tokens=limits.ANSWER_MAX_TOKENS,
            calls=tool.cost.model_calls,
        )

    async def check_model(
        self, *, meta: CallMeta, prompt_tokens: int, max_tokens: int
    ) -> dict[str, Any] | None:
        if self.mode == Client.Approvals.NEVER:
            return None
        worst = worst_case_micros(
            model=self.price, prompt_tokens_upper_bound=prompt_tokens, max_tokens=max_tokens
        )
        estimate = {
            "model": self.price.model_id,
            "worst_case_usd": float(micros_to_usd(worst)),
            "youtube_units": 0,
        }
        return await self._decide(
            estimate, meta=meta, prompt_tokens=prompt_tokens, max_tokens=max_tokens, calls=1
        )

    async def _decide(
        self,
        estimate: dict[str, Any],
        *,
        meta: CallMeta,
        prompt_tokens: int,
        max_tokens: int,
        calls: int,
    ) -> dict[str, Any] | None:
        if estimate["worst_case_usd"] > self.threshold_usd:
            reason = (
                f"may cost up to ${estimate['worst_case_usd']:.4f} (over ${self.threshold_usd})"
            )
            return {"reason": reason, "estimate": estimate}
        if estimate["youtube_units"] > self.youtube_units_limit:
            reason = f"uses up to {estimate['youtube_units']} YouTube quota units"
            return {"reason": reason, "estimate": estimate}
        if calls <= 0 or self.price.offline:
            return None
        guard = get_guard()
        # Asked inside a run: a short outage of the budget store is waited out.
        crossing = await outlasting_store_outage(
            lambda: guard.soft_crossing(
                meta=meta,
                model=self.price,
                prompt_tokens_upper_bound=prompt_tokens,
                max_tokens=max_tokens,
                calls=calls,
            )
        )
        if crossing is None:
            return None
        reason = (
            f"would take your {crossing['bucket']} budget past its soft limit "
            f"(${crossing['used_usd']:.4f} used of ${crossing['limit_usd']:.2f}; "
            f"warning at ${crossing['soft_limit_usd']:.2f})"
        )
        return {"reason": reason, "estimate": estimate, "budget": crossing}


def approval_policy_for(run: Run, *, price: ModelPrice) -> ApprovalPolicy | None:
    """The run's policy, from its client's settings; ``None`` when it never asks."""
    found = (
        Client.objects.filter(pk=run.client_id)
        .values_list("approvals", "approval_threshold_usd")
        .first()
        if _is_uuid(run.client_id)
        else None
    )
    mode, threshold = found or (Client.Approvals.COSTLY, None)
    if mode == Client.Approvals.NEVER:
        return None
    if mode == Client.Approvals.COSTLY and price.offline and not paid_images():
        return None  # the offline model costs nothing and searches nothing: nothing to ask
    return ApprovalPolicy(
        mode=mode,
        threshold_usd=Decimal(
            str(threshold if threshold is not None else settings.ENV.APPROVAL_THRESHOLD_USD)
        ),
        price=price,
        youtube_units_limit=settings.ENV.APPROVAL_YOUTUBE_UNITS,
    )


def paid_images() -> bool:
    """Whether the thumbnail chain has a paid provider (its images have a price)."""
    return bool(settings.ENV.REPLICATE_API_TOKEN)


def approval_id(run_id: str, call_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(run_id), f"approval:{call_id}"))


def approval_data(approval: Approval) -> dict[str, Any]:
    """``approval.requested``'s data (and the REST view of an approval)."""
    return {
        "approval_id": str(approval.id),
        "call_id": approval.call_id,
        "name": approval.name,
        "args": approval.args,
        "reason": approval.reason,
        "estimate": approval.estimate,
        "status": approval.status,
        "expires_at": approval.expires_at.isoformat(),
    }


def approvals_request(*, run: Run, asks: list[dict[str, Any]]) -> list[Approval]:
    """One approval per asked call; asking again (the node ran again) finds the same rows."""
    expires = timezone.now() + timedelta(seconds=settings.ENV.APPROVAL_TTL_S)
    rows = []
    for ask in asks:
        row, _ = Approval.objects.get_or_create(
            id=approval_id(str(run.id), ask["call_id"]),
            defaults={
                "run_id": run.id,
                "client_id": run.client_id,
                "call_id": ask["call_id"],
                "name": ask["name"],
                "args": ask.get("args") or {},
                "reason": str(ask.get("reason", ""))[:200],
                "estimate": ask.get("estimate") or {},
                "expires_at": expires,
            },
        )
        rows.append(row)
    return rows


def approvals_decisions(*, run_id: str) -> dict[str, dict[str, Any]] | None:
    """The resume value's decisions once every approval of the run is answered; ``None``
    while one is pending (or when the run asked nothing)."""
    rows = list(Approval.objects.filter(run_id=run_id))
    if not rows or any(row.status == Approval.Status.PENDING for row in rows):
        return None
    return {
        row.call_id: {
            "approved": row.status == Approval.Status.APPROVED,
            "args": row.decided_args,
            "reason": row.decision_reason,
        }
        for row in rows
    }


def approval_resolve(
    *,
    identity: Identity,
    run_id: str,
    approval_id: str,
    approved: bool,
    args: dict[str, Any] | None = None,
    reason: str = "",
) -> Approval:
    """Record the creator's answer; the run goes on once none of its approvals is pending.

    Another client's approval is not found (404); an answered one is a conflict (409).
    Edited ``args`` are checked against the tool's own schema (400 naming the fields), and
    their free text is moderated first (400 ``CONTENT_REJECTED`` naming ``args.<field>``;
    the approval stays pending).
    """
    client_id = identity.client_id
    if not (_is_uuid(approval_id) and _is_uuid(run_id)):
        raise NotFoundError("No such approval for this run.")
    if approved and isinstance(args, dict):
        # Checked outside the transaction (a network call must not hold the row lock); an
        # unknown approval is still a 404 first.
        if not Approval.objects.filter(pk=approval_id, run_id=run_id, client_id=client_id).exists():
            raise NotFoundError("No such approval for this run.")
        moderate_tool_args(args, identity=identity, feature="chat:approval", prefix="args")
    with transaction.atomic():
        approval = (
            Approval.objects.select_for_update()
            .filter(pk=approval_id, run_id=run_id, client_id=client_id)
            .first()
        )
        if approval is None:
            raise NotFoundError("No such approval for this run.")
        if approval.status != Approval.Status.PENDING:
            raise ConflictError(
                f"This approval was already answered ({approval.status}).",
                details={"status": approval.status},
            )
        decided_args = approval.args
        if approved and args is not None:
            decided_args = _validated_args(approval.name, args)
        approval.status = Approval.Status.APPROVED if approved else Approval.Status.DENIED
        approval.decided_args = decided_args if approved else None
        approval.decision_reason = reason[:500]
        approval.decided_at = timezone.now()
        approval.save(update_fields=["status", "decided_args", "decision_reason", "decided_at"])
        run = Run.objects.get(pk=approval.run_id)
        resolved = {
            "approval_id": str(approval.id),
            "call_id": approval.call_id,
            "name": approval.name,
            "approved": approved,
            "args": approval.decided_args,
            "reason": approval.decision_reason,
        }
        emitter = RunEmitter(run_id=str(run.id), attempt=max(1, run.attempt))
        transaction.on_commit(lambda: emitter.emit("approval.resolved", resolved))
        if not Approval.objects.filter(run_id=run.id, status=Approval.Status.PENDING).exists():
            run_resume(run_id=str(run.id))
    return approval


def approvals_expire() -> int:
    """Expire the approvals nobody answered in time; their runs end cancelled."""
    expired = 0
    for run_id in (
        Approval.objects.filter(status=Approval.Status.PENDING, expires_at__lte=timezone.now())
        .values_list("run_id", flat=True)
        .distinct()
    ):
        with transaction.atomic():
            count = Approval.objects.filter(
                run_id=run_id, status=Approval.Status.PENDING, expires_at__lte=timezone.now()
            ).update(status=Approval.Status.EXPIRED, decided_at=timezone.now())
            run = Run.objects.select_for_update().filter(pk=run_id).first()
            if not count or run is None or run.is_finished:
                continue
            expired += count
            run_cancel(run=run, reason="the approval it waited for expired")
            if run.session_id:
                session_id = str(run.session_id)
                transaction.on_commit(
                    lambda session_id=session_id: session_advance(session_id=session_id)  # type: ignore[misc]
                )
    if expired:
        logger.info("approvals_expired", count=expired)
    return expired


def _validated_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    if name == MODEL_CALL:
        raise ValidationError.for_field("args", "a model call has no arguments to edit")
    tool = TOOLS.get(name)
    if tool is None:
        raise ValidationError.for_field("args", f"there is no tool named {name!r}")
    if not isinstance(args, dict):
        raise ValidationError.for_field("args", "must be an object")
    try:
        return tool.validate_args(args)
    except ToolFailure as exc:
        raise ValidationError(exc.message, details={"fields": {"args": [exc.message]}}) from exc


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
