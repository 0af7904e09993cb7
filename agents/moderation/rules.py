"""The offline checker: a short list of regular expressions per category, used when no
moderation endpoint is configured (the embedded default, the offline model).

It is deliberately small and conservative: it refuses only unambiguous requests in four
categories (named as OpenAI's moderation endpoint names them, so one
``MODERATION_BLOCK_CATEGORIES`` works for both), and lets through the creator's everyday
vocabulary — "kill it on YouTube", "shooting a video", "this will blow up", "viral",
"fire", "a bath bomb", "suicide prevention", "how to talk to kids about online safety".
It is no classifier: anything subtler needs the endpoint (``MODERATION_URL``).

- ``harassment/threatening`` — a first-person threat to kill or hurt the reader or a named
  person ("I'm going to kill you", "I'll shoot him dead", "put a bullet in your head"),
  and telling someone to kill themselves ("go kill yourself", "kys"). Not "kill it", not
  "I'll shoot you a message", not "I'll kill you in Fortnite".
- ``sexual/minors`` — sexual material involving children: an explicit noun (porn, nudes,
  erotica, hentai, sex videos, ...) next to a child ("child porn", "nudes of a 14 year
  old"), "sex with a minor", "sexy 12 year old".
- ``self-harm/instructions`` — asking how to kill or hurt oneself ("how to kill myself",
  "painless way to die", "how many pills to overdose"). Talking about suicide, its
  prevention or a film is not matched.
- ``illicit/violent`` — how to build a bomb or another weapon of mass harm ("how to make a
  pipe bomb", "instructions for an IED", ricin, sarin), and planning an attack ("shoot up
  a school", "planning a terrorist attack").

Text is compared after Unicode NFKC folding, lower-casing and dropping zero-width
characters; a category's patterns run only when one of its trigger words is in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from agents.moderation.verdict import ModerationPolicy, Verdict, first_refusal

SOURCE = "rules"

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_APOSTROPHES = re.compile("[\u2019\u2018\u02bc`]")

# "I will", "I'll", "I'm going to", "im gonna", "we're going to", ...
_INTENT = (
    r"(?:i|we)\s*(?:'ll|'m|'re|m|re|am|are)?\s*"
    r"(?:will|shall|going\s+to|gonna|want\s+to|wanna)?"
)
_PERSON = (
    r"(?:you|u|ya|him|her|"
    r"your\s+(?:family|kids?|children|wife|husband|son|daughter|mom|mother|dad|father|parents))"
)
_MINOR = (
    r"(?:child|children|kids?|minors?|under-?age|pre-?teens?|toddlers?|infants?|"
    r"little\s+(?:girls?|boys?)|(?:[1-9]|1[0-7])[\s-]*(?:yo|y/o|yrs?[\s-]*old|years?[\s-]*old))"
)
_SEXUAL_NOUN = (
    r"(?:porn|porno|pornography|nudes|erotica|lewds?|hentai|"
    r"(?:nude|naked|explicit|erotic|sexual)\s+(?:pics?|photos?|images?|videos?|selfies?)|"
    r"sex\s+(?:videos?|tapes?|acts?|scenes?))"
)
_HOW = (
    r"(?:how\s+(?:to|do\s+i|do\s+you|can\s+i|should\s+i|would\s+i)|"
    r"(?:best|easiest|quickest|fastest|simplest)\s+ways?\s+to|ways?\s+to|methods?\s+(?:to|of|for)|"
    r"steps?\s+to|guide\s+to|instructions?\s+(?:to|for|on)|tutorial\s+(?:on|for)|recipe\s+for)"
)
_SELF_HARM_ACT = (
    # "kill myself in Minecraft", "take your life back", "cut yourself some slack" are not.
    r"(?:kill\s+(?:myself|yourself|oneself|themselves|himself|herself)(?!\s+(?:in|on|at)\b)|"
    r"commit\s+suicide|(?:end|take)\s+(?:my|your|one's|their)\s+(?:own\s+)?life(?!\s+back\b)|"
    r"(?:hang|cut)\s+(?:myself|yourself|oneself)"
    r"(?=\s*(?:$|[.,!?;:]|without|deep|deeper|safely|properly))|"
    r"slit\s+(?:my|your|one's)\s+wrists?)"
)
_WEAPON = (
    r"(?:pipe\s*bombs?|nail\s*bombs?|car\s*bombs?|pressure[\s-]*cooker\s+bombs?|suicide\s+vests?|"
    r"ieds?|improvised\s+explosive(?:\s+devices?)?|molotov(?:\s+cocktails?)?|ricin|sarin|"
    r"nerve\s+agents?|chemical\s+weapons?|dirty\s+bombs?)"
)
_TARGET = r"(?:school|mosque|church|synagogue|temple|classroom|campus|mall|concert|parade|hospital)"

RULES: dict[str, tuple[str, ...]] = {
    "harassment/threatening": (
        # Not followed by a game, a place or an idiom ("in Fortnite", "at chess", "a DM").
        rf"\b{_INTENT}\s+(?:kill|murder|stab|strangle|behead|slaughter|rape|lynch)\s+{_PERSON}\b"
        r"(?!\s+(?:in|at|on|off|over|out|a|an|with\s+(?:kindness|love|laughter|laughing|this|"
        r"these|my\s+(?:content|jokes|videos?|edits?|moves|skills)))\b)",
        rf"\b{_INTENT}\s+shoot\s+{_PERSON}\s+(?:dead|in\s+the\s+(?:head|face|chest|back|knees?))\b",
        r"\bput\s+a\s+bullet\s+(?:in|through)\s+(?:your|his|her)\s+(?:head|skull|brain|face)\b",
        r"\b(?:go|you\s+should|u\s+should|just|pls|please|why\s+don'?t\s+you)\s+"
        r"(?:kill|hang|shoot)\s+(?:yourself|urself|your\s+self)\b",
        r"\bkys\b",
    ),
    "sexual/minors": (
        rf"\b{_MINOR}\s+{_SEXUAL_NOUN}\b",
        rf"\b{_SEXUAL_NOUN}\s+(?:of|with|featuring|involving|showing)\s+"
        rf"(?:a\s+|an\s+|some\s+|little\s+)?{_MINOR}\b",
        rf"\b(?:have|having|had|want|wanna)\s+sex\s+with\s+(?:a\s+|an\s+|my\s+|some\s+)?{_MINOR}\b",
        rf"\bsexy\s+{_MINOR}\b",
    ),
    "self-harm/instructions": (
        rf"\b{_HOW}\s+{_SELF_HARM_ACT}",
        r"\bhow\s+(?:many|much)\s+(?:\w+\s+){0,3}?(?:pills|tablets|paracetamol|tylenol|"
        r"acetaminophen|sleeping\s+pills|insulin)\s+(?:\w+\s+){0,3}?"
        r"(?:to|would|will|does\s+it\s+take\s+to)\s+(?:die|kill\s+(?:me|myself|someone)|"
        r"be\s+(?:fatal|lethal)|overdose)\b",
        r"\bpainless(?:ly)?\s+(?:ways?|methods?)\s+to\s+die\b|\bdie\s+painlessly\b",
    ),
    "illicit/violent": (
        rf"\b{_HOW}\s+(?:make|build|assemble|construct|making|building)?\s*(?:a\s+|an\s+)?{_WEAPON}\b",
        # A bomb itself, not a "bomb shelter", "bomb intro" or "bath bomb".
        r"\bhow\s+(?:to|do\s+i|do\s+you|can\s+i)\s+(?:make|build|assemble)\s+(?:a|an)\s+"
        r"(?:real\s+|working\s+|homemade\s+)?bomb\b(?!\s*[\w-])",
        rf"\bshoot\s+up\s+(?:a|the|my|our|this|that)\s+{_TARGET}\b",
        rf"\b{_INTENT}\s+(?:bomb|blow\s+up)\s+(?:a|the|my|our|this|that)\s+{_TARGET}\b",
        r"\b(?:plan(?:ning)?|carry(?:ing)?\s+out|commit(?:ting)?|help\s+me\s+plan)\s+"
        r"(?:a\s+|an\s+)?(?:mass\s+shooting|school\s+shooting|terror(?:ist)?\s+attack)\b",
    ),
}

# A category's patterns are tried only when the text holds one of these words (a substring
# search is ~100x cheaper than a regex pass): every pattern above needs one of them.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "harassment/threatening": (
        "kill", "murder", "stab", "strangle", "behead", "slaughter", "rape", "lynch",
        "shoot", "bullet", "hang", "kys",
    ),
    "sexual/minors": ("porn", "nude", "naked", "erotic", "explicit", "lewd", "hentai", "sex"),
    "self-harm/instructions": (
        "self", "suicide", "life", "wrist", "die", "kill", "fatal", "lethal", "overdose",
    ),
    "illicit/violent": (
        "bomb", "ied", "explosive", "molotov", "ricin", "sarin", "nerve", "chemical", "shoot",
        "blow", "terror", "vest",
    ),
}  # fmt: skip

# One alternation per category: one pass over the text for each.
_COMPILED: dict[str, re.Pattern[str]] = {
    category: re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
    for category, patterns in RULES.items()
}
CATEGORIES: tuple[str, ...] = tuple(RULES)


def normalise(text: str) -> str:
    """NFKC-folded (full-width letters, ligatures), without zero-width characters, with one
    kind of apostrophe, lower case. (The patterns take any run of whitespace.)"""
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    return _APOSTROPHES.sub("'", text).casefold()


def matched_categories(text: str, *, only: frozenset[str] | None = None) -> list[str]:
    """The rule categories ``text`` matches (in ``CATEGORIES`` order)."""
    folded = normalise(text)
    return [
        category
        for category, pattern in _COMPILED.items()
        if (only is None or category in only)
        and any(word in folded for word in TRIGGERS[category])
        and pattern.search(folded)
    ]


class RuleModerator:
    """``Moderator`` over ``RULES``; never unavailable. Scores are 1.0 for a match."""

    source = SOURCE

    def __init__(self, *, policy: ModerationPolicy | None = None) -> None:
        self.policy = policy or ModerationPolicy()

    def check(self, texts: Sequence[str]) -> Verdict:
        results = []
        for text in texts:
            hits = matched_categories(text, only=self.policy.block)
            results.append(
                ({category: True for category in hits}, {category: 1.0 for category in hits})
            )
        return first_refusal(results, policy=self.policy, source=self.source)
