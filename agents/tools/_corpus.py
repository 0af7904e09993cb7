"""The corpus the keyword and hashtag tools measure: the client's own and competitor
channels' videos on a topic, and what to tell the creator when it is too thin."""

from __future__ import annotations

from agents.analytics.keywords import MIN_CORPUS_CHANNELS, Role, Sample
from agents.workspace import Workspace

NO_CHANNELS_NOTE = (
    "There is no data to measure {what} on: you have no channels yet. Add your own "
    "channel and a few competitors' on the Channels page (a YouTube handle, or a CSV "
    "export of the uploads)."
)


def channel_roles(workspace: Workspace) -> dict[str, Role]:
    return {channel.channel_id: channel.role for channel in workspace.channels}


def corpus_note(
    *, workspace: Workspace, corpus: Sample, topic: str, what: str, few_channels: str
) -> str | None:
    """Why the figures are thin and how to fix it; None when the corpus is big enough.

    ``what`` names what is measured ("keywords"); ``few_channels`` says what a corpus of
    fewer than ``MIN_CORPUS_CHANNELS`` channels cannot give ("competition needs").
    """
    if workspace.total == 0 and corpus.videos == 0:
        return NO_CHANNELS_NOTE.format(what=what)
    if corpus.videos == 0:
        return (
            f"None of the videos on your {workspace.total} channel(s) mention {topic!r}, so "
            "there is nothing to measure: add channels that cover it (competitors) on the "
            "Channels page, or check the topic's spelling."
        )
    if corpus.channels < MIN_CORPUS_CHANNELS:
        roles = (
            f" ({corpus.own_channels} own, {corpus.competitor_channels} competitor)"
            if corpus.own_channels is not None
            else ""
        )
        return (
            f"The videos on the topic come from {corpus.channels} channel(s){roles}: "
            f"{few_channels} at least {MIN_CORPUS_CHANNELS}. Add competitor channels "
            "on the Channels page."
        )
    return None


__all__ = ["NO_CHANNELS_NOTE", "channel_roles", "corpus_note"]
