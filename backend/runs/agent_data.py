"""The agent's data access over the backend's storage (``agents.context.AgentData``)."""

from __future__ import annotations

from agents.context import SavedFactoid
from agents.videos import Video


class BackendAgentData:
    """Channel analytics and the factoid feed are stored by later features (channels,
    factoids); until they exist the tools see no stored videos, and saving a factoid fails
    as a tool error rather than pretending it was kept."""

    def __init__(self, *, client_id: str) -> None:
        self.client_id = client_id

    async def videos_for_channel(self, channel_id: str) -> list[Video]:
        return []

    async def corpus_videos(self, query: str) -> list[Video]:
        return []

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        raise RuntimeError("Factoids cannot be stored yet: the factoid feed is not built.")
