"""The agent's data access (``agents.context.AgentData``) over the stored channels."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from agents.analytics.video import Video
from agents.context import SavedFactoid
from backend.channels import selectors
from backend.core.errors import NotFoundError


class BackendAgentData:
    """Channels and videos the client imported or fetched. Factoids are stored by the
    factoid feed, which is not built yet: saving one fails as a tool error rather than
    pretending it was kept."""

    def __init__(self, *, client_id: str) -> None:
        self.client_id = client_id

    async def videos_for_channel(self, channel_id: str) -> list[Video]:
        def load() -> list[Video]:
            try:
                channel = selectors.channel_get_for_client(
                    channel_id=channel_id, client_id=self.client_id
                )
            except NotFoundError:
                return []
            return selectors.channel_analytics_videos(channel=channel)

        return await sync_to_async(load)()

    async def corpus_videos(self, query: str) -> list[Video]:
        return await sync_to_async(selectors.corpus_videos)(client_id=self.client_id, query=query)

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        raise RuntimeError("Factoids cannot be stored yet: the factoid feed is not built.")
