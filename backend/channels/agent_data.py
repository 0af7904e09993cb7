"""The agent's data access (``agents.context.AgentData``) over the stored channels."""

from __future__ import annotations

from collections.abc import Sequence

from agents.analytics.video import Video
from agents.context import SavedFactoid, SavedThumbnail
from agents.guard.interface import CallMeta
from agents.tools._search import SearchSampling
from agents.tools._sources import IMPORTED_CSV, YOUTUBE_DATA_API, ChannelSnapshot
from agents.tools._video_search import FoundVideo
from agents.tools.base import ToolFailure
from agents.workspace import Workspace
from backend.channels import selectors, video_search
from backend.channels.models import Channel
from backend.core.db import released
from backend.core.errors import NotFoundError, from_exception
from backend.model_calls.usage import UsageSink

# Search failures the tool tells apart (auto falls back to the workspace on the first two).
SEARCH_FAILURE_CODES = frozenset({"UPSTREAM_UNAVAILABLE", "RATE_LIMITED", "VALIDATION_ERROR"})


class BackendAgentData:
    """Channels and videos the client imported or fetched; factoids the agent writes are
    stored private to the client (source ``chat``), never in the public feed."""

    # The corpus is the client's imported and fetched channels.
    corpus_source = "your imported and fetched channels"

    def __init__(
        self,
        *,
        client_id: str,
        model_id: str = "",
        usage_sink: UsageSink | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        self.client_id = client_id
        # The model the factoid tool's text came from, recorded on the factoid.
        self.model_id = model_id
        # Where paid images' usage goes, like the run's model calls (its usage events).
        self.usage_sink = usage_sink
        # Read with the run's other settings, or on first use (``workspace_for_client``).
        self._workspace: Workspace | None = workspace

    async def workspace(self) -> Workspace:
        """Read once per run (this object lives as long as the run's context)."""
        if self._workspace is None:
            self._workspace = await released(selectors.workspace_for_client)(
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

        return await released(load)()

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

        return await released(load)()

    async def corpus_videos(self, query: str) -> list[Video]:
        if (await self.workspace()).total == 0:
            return []  # the corpus is the workspace's channels' videos: none to search
        return await released(selectors.corpus_videos)(client_id=self.client_id, query=query)

    # -- video search (agents.tools._video_search.SearchesVideos) ----------------------

    workspace_search_source = video_search.WORKSPACE_SOURCE

    async def youtube_search_available(self) -> bool:
        return video_search.youtube_search_available()

    async def search_youtube(self, *, query: str, max_results: int) -> list[FoundVideo]:
        """The same search as ``GET /api/videos/search/`` (its cache and daily cap)."""
        try:
            return await released(video_search.video_search_youtube)(
                client_id=self.client_id, query=query, max_results=max_results
            )
        except Exception as exc:
            error = from_exception(exc)
            if error is None:
                raise
            code = error.code if error.code in SEARCH_FAILURE_CODES else "UPSTREAM_ERROR"
            raise ToolFailure(error.message, code=code) from None

    async def search_workspace(self, *, query: str, max_results: int) -> list[FoundVideo]:
        return await released(video_search.video_search_workspace)(
            client_id=self.client_id, query=query, max_results=max_results
        )

    # -- keyword search sample (agents.tools._search.SamplesSearch) --------------------

    async def sample_search(
        self, keywords: Sequence[str], *, client_id: str, ip_hash: str | None
    ) -> SearchSampling:
        """keyword_research's YouTube sample: cached, capped, within a time budget."""
        from backend.channels.search_sample import search_sampler

        return await search_sampler().asample(keywords, client_id=client_id, ip_hash=ip_hash)

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        from backend.factoids.services import factoid_save_from_chat

        factoid = await released(factoid_save_from_chat)(
            client_id=self.client_id,
            topic=topic,
            text=text,
            model=self.model_id or "unknown",
            source_video_ids=source_video_ids,
        )
        return SavedFactoid(factoid_id=str(factoid.uuid), topic=factoid.subject, text=factoid.text)

    async def make_thumbnail(
        self, *, meta: CallMeta, prompt: str, title: str, seed: int
    ) -> SavedThumbnail:
        from backend.thumbnails.services import thumbnail_make

        made = await thumbnail_make(
            meta=meta, prompt=prompt, title=title, seed=seed, usage_sink=self.usage_sink
        )
        return SavedThumbnail(
            thumbnail_id=str(made.id),
            provider=made.provider,
            model=made.model,
            offline=made.offline,
            width=made.width,
            height=made.height,
            cost_usd=float(made.cost_usd),
        )
