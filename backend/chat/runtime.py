"""Per-run limits for chat runs (the agent's Context is filled from these)."""

ANSWER_MAX_TOKENS = 1024
MAX_STEPS = 6
HISTORY_TOKEN_BUDGET = 6_000
RUN_DEADLINE_S = 300
