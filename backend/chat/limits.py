"""Per-run limits for chat runs (the agent's Context is filled from these; the run's
deadline is the engine's, ``RUN_DEADLINE_S`` in settings)."""

ANSWER_MAX_TOKENS = 1024
MAX_STEPS = 6
HISTORY_TOKEN_BUDGET = 6_000
