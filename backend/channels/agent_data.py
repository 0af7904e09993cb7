"""The agent's data access (``agents.context.AgentData``) over the stored channels."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from agents.analytics.video import Video
from agents.context import SavedFactoid
from agents.tools._sources import IMPORTED_CSV, YOUTUBE_DATA_API, ChannelSnapshot
from agents.workspace import Workspace
from backend.channels import selectors
from backend.channels.models import Channel
from backend.core.errors import NotFoundError


class BackendAgentData:
    """Channels and videos the client imported or fetched; factoids the agent writes go to
    the factoid feed (source ``chat``)."""

    # The corpus is the client's imported and fetched channels.
    corpus_source = "your imported and fetched channels"

    def __init__(self, *, client_id: str, model_id: str = "") -> None:
        self.client_id = client_id
        # The model the factoid tool's text came from, recorded on the factoid.
        self.model_id = model_id
        self._workspace: Workspace | None = None

    async def workspace(self) -> Workspace:
        """Read once per run (this object lives as long as the run's context)."""
        if self._workspace is None:
            self._workspace = await sync_to_async(selectors.workspace_for_client)(
                client_id=self.client_id
            )
        return self._workspace

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

    async def channel_snapshot(self, channel_id: str) -> ChannelSnapshot | None:
        """Where the channel's statistics came from and when they were observed."""

        def load() -> ChannelSnapshot | None:
            try:
                channel = selectors.channel_get_for_client(
                    channel_id=channel_id, client_id=self.client_id
                )
            except NotFoundError:
                return None
            source = YOUTUBE_DATA_API if channel.source == Channel.Source.YOUTUBE else IMPORTED_CSV
            return ChannelSnapshot(source=source, observed_at=channel.fetched_at)

        return await sync_to_async(load)()

    async def corpus_videos(self, query: str) -> list[Video]:
        return await sync_to_async(selectors.corpus_videos)(client_id=self.client_id, query=query)

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        from backend.factoids.services import factoid_save_from_chat

        factoid = await sync_to_async(factoid_save_from_chat)(
            client_id=self.client_id,
            topic=topic,
            text=text,
            model=self.model_id or "unknown",
            source_video_ids=source_video_ids,
        )
        return SavedFactoid(factoid_id=str(factoid.uuid), topic=factoid.subject, text=factoid.text)
