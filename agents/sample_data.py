"""An in-memory ``AgentData`` with a small built-in corpus, for the CLI, evals and tests.

The backend supplies its own ``AgentData`` over the database; this one needs nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from agents.context import SavedFactoid, SavedThumbnail
from agents.guard.interface import CallMeta
from agents.thumbnails import ThumbnailSpec, render_title_card
from agents.tools._sources import SAMPLE_CORPUS, ChannelSnapshot
from agents.tools._text import content_words
from agents.videos import Video
from agents.workspace import Workspace, WorkspaceChannel, ordered

SAMPLE_CHANNEL_ID = "UCespresso01"
SAMPLE_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

_TOPICS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "espresso": [
        (
            "Dialing in espresso on a budget grinder",
            "#espresso #homebarista #coffee",
            ("espresso", "grinder", "home barista"),
        ),
        (
            "Latte art for beginners: the heart",
            "#latteart #coffee #barista",
            ("latte art", "milk", "barista"),
        ),
        (
            "I tried every espresso machine under $300",
            "#espresso #coffee #review",
            ("espresso machine", "review", "budget"),
        ),
        (
            "Why your espresso tastes sour",
            "#espresso #coffee #homebarista",
            ("espresso", "sour", "extraction"),
        ),
        (
            "Home espresso setup tour 2026",
            "#homebarista #espresso #setup",
            ("espresso", "setup", "home barista"),
        ),
        (
            "Cold brew vs espresso: caffeine tested",
            "#coffee #coldbrew",
            ("coffee", "cold brew", "caffeine"),
        ),
        (
            "Milk steaming in 45 seconds",
            "#latteart #milk #shorts",
            ("milk", "steaming", "latte art"),
        ),
        (
            "Espresso grinder burrs compared",
            "#espresso #grinder",
            ("espresso", "grinder", "burrs"),
        ),
        (
            "Cleaning your espresso machine properly",
            "#espresso #maintenance",
            ("espresso machine", "cleaning", "descaling"),
        ),
        (
            "Tamping pressure myth",
            "#espresso #homebarista #shorts",
            ("tamping", "espresso", "myth"),
        ),
        (
            "Single origin vs blend for espresso",
            "#coffee #espresso #beans",
            ("coffee beans", "espresso", "single origin"),
        ),
        (
            "Water for coffee, explained",
            "#coffee #water",
            ("coffee", "water", "extraction"),
        ),
    ],
    "sourdough": [
        (
            "Sourdough starter from scratch in 7 days",
            "#sourdough #baking #bread",
            ("sourdough", "starter", "bread"),
        ),
        (
            "10 sourdough mistakes beginners make",
            "#sourdough #baking",
            ("sourdough", "mistakes", "beginner"),
        ),
        (
            "Open crumb sourdough, explained",
            "#sourdough #bread #crumb",
            ("sourdough", "crumb", "hydration"),
        ),
    ],
    "keyboards": [
        (
            "Building my first mechanical keyboard",
            "#mechanicalkeyboard #keyboards",
            ("mechanical keyboard", "build", "switches"),
        ),
        (
            "Lubing switches: worth it?",
            "#mechanicalkeyboard #asmr",
            ("switches", "lube", "mechanical keyboard"),
        ),
    ],
    "van life": [
        (
            "Budget van life: what a month really costs",
            "#vanlife #budgettravel",
            ("van life", "budget", "travel"),
        ),
        ("Van life kitchen build", "#vanlife #diy", ("van life", "kitchen", "diy")),
    ],
}


def sample_videos() -> list[Video]:
    """A channel about home espresso (weekly uploads, a few breakouts) plus a corpus."""
    videos: list[Video] = []
    counter = itertools.count(1)
    for topic, entries in _TOPICS.items():
        for index, (title, hashtags, tags) in enumerate(entries):
            number = next(counter)
            on_sample_channel = topic == "espresso"
            videos.append(
                Video(
                    video_id=f"vid{number:03d}",
                    channel_id=SAMPLE_CHANNEL_ID
                    if on_sample_channel
                    else f"UC{topic.replace(' ', '')}01",
                    channel_title="Home Espresso Lab"
                    if on_sample_channel
                    else f"{topic.title()} Channel",
                    title=title,
                    description=f"{title}. {hashtags}",
                    tags=tags,
                    published_at=SAMPLE_NOW - timedelta(days=7 * index + 2),
                    duration_seconds=45 if index % 3 == 1 else 600 + 60 * index,
                    # A deterministic spread: a long-form breakout (2) and flop (3), a Short
                    # breakout (7); on the sample channel's 12 weekly uploads they are the
                    # outliers.
                    views=(
                        250_000
                        if index == 2
                        else 2_000
                        if index == 3
                        else 180_000
                        if index == 7
                        else 20_000 + 1_000 * index
                    ),
                    likes=500 + 10 * index,
                    comments=40 + index,
                )
            )
    return videos


class InMemoryAgentData:
    """``AgentData`` over a list of videos; saved factoids are kept in ``factoids``.

    It also describes its sources (``agents.tools._sources.DescribesSources``): the
    built-in videos are the "sample corpus", observed at ``SAMPLE_NOW``; for videos
    passed in, ``source`` and ``observed_at`` say the same (``observed_at`` None =
    unknown).
    """

    def __init__(
        self,
        videos: Iterable[Video] | None = None,
        *,
        source: str = SAMPLE_CORPUS,
        observed_at: datetime | None = None,
        own_channel_ids: Iterable[str] | None = None,
    ) -> None:
        self.videos = list(videos) if videos is not None else sample_videos()
        # The creator's own channels, the first one primary: by default the sample
        # channel, or for videos passed in the first channel among them.
        first = self.videos[0].channel_id if self.videos else None
        default_own = [SAMPLE_CHANNEL_ID] if videos is None else [first] if first else []
        self.own_channel_ids = list(own_channel_ids or default_own)
        self.factoids: list[SavedFactoid] = []
        # Thumbnails "kept" here: the offline title card, PNG bytes by id.
        self.thumbnails: dict[str, bytes] = {}
        self.corpus_source = source
        self.observed_at = observed_at if videos is not None else observed_at or SAMPLE_NOW

    async def channel_snapshot(self, channel_id: str) -> ChannelSnapshot | None:
        if not any(v.channel_id == channel_id for v in self.videos):
            return None
        return ChannelSnapshot(source=self.corpus_source, observed_at=self.observed_at)

    async def workspace(self) -> Workspace:
        channels: dict[str, list[Video]] = {}
        for video in self.videos:
            channels.setdefault(video.channel_id, []).append(video)
        found = [
            WorkspaceChannel(
                channel_id=channel_id,
                ref=channel_id,
                title=videos[0].channel_title,
                role="own" if channel_id in self.own_channel_ids else "competitor",
                primary=bool(self.own_channel_ids) and channel_id == self.own_channel_ids[0],
                video_count=len(videos),
                observed_at=self.observed_at,
                source=self.corpus_source,
            )
            for channel_id, videos in channels.items()
        ]
        return Workspace(channels=ordered(found), total=len(found))

    async def videos_for_channel(self, channel_id: str) -> list[Video]:
        return [v for v in self.videos if v.channel_id == channel_id]

    async def corpus_videos(self, query: str) -> list[Video]:
        wanted = set(content_words(query))
        scored = []
        for video in self.videos:
            text = set(content_words(f"{video.title} {' '.join(video.tags)}"))
            overlap = len(wanted & text)
            if overlap:
                scored.append((overlap, video.views, video))
        scored.sort(key=lambda item: (-item[0], -item[1], item[2].video_id))
        return [video for _, _, video in scored]

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        saved = SavedFactoid(factoid_id=f"factoid-{len(self.factoids) + 1}", topic=topic, text=text)
        self.factoids.append(saved)
        return saved

    async def make_thumbnail(
        self, *, meta: CallMeta, prompt: str, title: str, seed: int
    ) -> SavedThumbnail:
        """The offline title card (no provider is called from the sample data)."""
        spec = ThumbnailSpec(prompt=prompt, title=title, seed=seed)
        thumbnail_id = f"thumbnail-{len(self.thumbnails) + 1}"
        self.thumbnails[thumbnail_id] = render_title_card(spec)
        return SavedThumbnail(
            thumbnail_id=thumbnail_id,
            provider="offline",
            model="title-card",
            offline=True,
            width=spec.width,
            height=spec.height,
            cost_usd=0.0,
        )
