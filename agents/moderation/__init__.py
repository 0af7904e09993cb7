"""Moderation before inference: every text a person sends is checked before it reaches a
model (see README, "Moderation"). ``Moderator.check(texts) -> Verdict``; two checkers: an
OpenAI-compatible endpoint (``EndpointModerator``) and, with none configured, a small
documented rule list (``RuleModerator``, ``rules.RULES``)."""

from agents.moderation.endpoint import EndpointModerator, moderations_url
from agents.moderation.fields import FREE_TEXT_ARGS, free_text_fields
from agents.moderation.rules import CATEGORIES as RULE_CATEGORIES
from agents.moderation.rules import RuleModerator
from agents.moderation.verdict import ModerationPolicy, ModerationUnavailable, Moderator, Verdict

__all__ = [
    "FREE_TEXT_ARGS",
    "RULE_CATEGORIES",
    "EndpointModerator",
    "ModerationPolicy",
    "ModerationUnavailable",
    "Moderator",
    "RuleModerator",
    "Verdict",
    "free_text_fields",
    "moderations_url",
]
