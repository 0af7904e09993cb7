"""Moderation before inference: the entry points (chat messages, the tools API, factoid
subjects, thumbnail prompts, edited approval arguments) check the person's text here before
anything is recorded, queued or sent to a model (``services.moderate``). The checkers are
Django-free, in ``agents.moderation``; this package picks one from settings, turns its
verdict into ``ContentRejectedError`` (400) or ``ModerationUnavailableError`` (503,
fail-closed), and counts rejections (``selectors.moderation_counts``)."""
