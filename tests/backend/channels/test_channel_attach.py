"""An anonymous client's channels joining an account: the account's roles win.

Through ``account_attach_client`` (what sign-up and log-in call), on both sides'
channels as stored rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.accounts.services.attach import account_attach_client
from backend.channels.models import Channel, Video
from backend.clients.services import client_create

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def channel(
    client_id: str,
    external_id: str,
    *,
    title: str | None = None,
    role: str = "competitor",
    primary: bool = False,
    display_name: str = "",
    handle: str = "",
    fetched_days: int = 0,
    age: int = 0,
    videos: dict[str, int] | None = None,
) -> Channel:
    """A stored channel with ``videos`` (video id → views) observed at BASE + fetched_days."""
    row = Channel.objects.create(
        client_id=client_id,
        external_id=external_id,
        title=title or external_id,
        role=role,
        is_primary=primary,
        display_name=display_name,
        handle=handle,
        source="import",
        fetched_at=BASE + timedelta(days=fetched_days),
        video_count=len(videos or {}),
    )
    Channel.objects.filter(pk=row.pk).update(created_at=BASE + timedelta(seconds=age))
    Video.objects.bulk_create(
        Video(
            channel=row,
            video_id=video_id,
            title=video_id,
            published_at=BASE,
            views=views,
            likes=0,
            comments=0,
        )
        for video_id, views in (videos or {}).items()
    )
    row.refresh_from_db()
    return row


def roles(client_id: str) -> dict[str, tuple[str, bool, str]]:
    return {
        c.external_id: (c.role, c.is_primary, c.display_name)
        for c in Channel.objects.filter(client_id=client_id)
    }


def views(row: Channel) -> dict[str, int]:
    return dict(Video.objects.filter(channel=row).values_list("video_id", "views"))


@pytest.fixture
def sides(db):
    from backend.accounts.services.auth import account_register

    account, _ = account_register(
        email="ada@example.com", password="correct-horse-battery-9", ip_hash="test"
    )
    anonymous, _ = client_create(ip_hash="anon")
    return account, str(account.client_id), str(anonymous.id)


def test_a_channel_both_have_keeps_the_accounts_roles_and_the_newer_statistics(sides):
    account, mine, anon = sides
    kept = channel(
        mine,
        "UC1",
        title="Old title",
        role="own",
        primary=True,
        display_name="Main",
        fetched_days=0,
        videos={"a": 10, "b": 20},
    )
    channel(
        anon,
        "UC1",
        title="New title",
        display_name="Anon's name",
        handle="@one",
        fetched_days=2,
        videos={"b": 25, "c": 5},
    )
    moved = account_attach_client(account=account, client_id=anon)
    assert moved["channels"] == 1
    assert roles(mine) == {"UC1": ("own", True, "Main")}
    assert not Channel.objects.filter(client_id=anon).exists()
    merged = Channel.objects.get(client_id=mine)
    assert merged.pk == kept.pk
    # Newer snapshot: its statistics win, its title; videos only the older one had stay.
    assert views(merged) == {"a": 10, "b": 25, "c": 5}
    assert (merged.title, merged.fetched_at, merged.video_count) == (
        "New title",
        BASE + timedelta(days=2),
        3,
    )
    assert merged.handle == "@one"  # the account had none
    assert Video.objects.count() == 3


def test_an_older_anonymous_snapshot_adds_its_videos_but_changes_no_statistics(sides):
    account, mine, anon = sides
    channel(mine, "UC1", title="Current", role="competitor", fetched_days=5, videos={"a": 50})
    channel(
        anon,
        "UC1",
        title="Stale",
        role="own",
        primary=True,
        fetched_days=1,
        videos={"a": 1, "z": 9},
    )
    account_attach_client(account=account, client_id=anon)
    merged = Channel.objects.get(client_id=mine)
    assert views(merged) == {"a": 50, "z": 9}
    assert (merged.title, merged.fetched_at) == ("Current", BASE + timedelta(days=5))
    # The account's role wins even though the anonymous copy was its primary own.
    assert roles(mine) == {"UC1": ("competitor", False, "")}


def test_channels_only_the_anonymous_client_had_move_but_not_as_primary(sides):
    account, mine, anon = sides
    channel(mine, "UCmain", role="own", primary=True, age=0)
    channel(anon, "UCanon-main", role="own", primary=True, display_name="Shorts", age=1)
    channel(anon, "UCanon-rival", role="competitor", age=2)
    moved = account_attach_client(account=account, client_id=anon)
    assert moved["channels"] == 2
    assert roles(mine) == {
        "UCmain": ("own", True, ""),
        "UCanon-main": ("own", False, "Shorts"),
        "UCanon-rival": ("competitor", False, ""),
    }


def test_an_account_without_an_own_channel_takes_the_anonymous_roles(sides):
    account, mine, anon = sides
    channel(mine, "UCrival", role="competitor")
    channel(anon, "UCanon-main", role="own", primary=True, display_name="Mine")
    channel(anon, "UCanon-second", role="own")
    account_attach_client(account=account, client_id=anon)
    assert roles(mine) == {
        "UCrival": ("competitor", False, ""),
        "UCanon-main": ("own", True, "Mine"),
        "UCanon-second": ("own", False, ""),
    }


def test_an_empty_account_takes_everything_as_it_was(sides):
    account, mine, anon = sides
    channel(anon, "UC1", role="own", primary=True, videos={"a": 1})
    channel(anon, "UC2")
    before = roles(anon)
    account_attach_client(account=account, client_id=anon)
    assert roles(mine) == before
    assert Video.objects.get().channel.client_id == mine


def test_when_the_shared_channel_was_the_anonymous_primary_its_next_own_channel_leads(sides):
    """The account keeps the shared channel a competitor; its new own channel (the
    anonymous client's other own one) becomes the primary, so "mine" still means one."""
    account, mine, anon = sides
    channel(mine, "UCshared", role="competitor")
    channel(anon, "UCshared", role="own", primary=True, age=0)
    channel(anon, "UCsecond", role="own", age=1)
    account_attach_client(account=account, client_id=anon)
    assert roles(mine) == {
        "UCshared": ("competitor", False, ""),
        "UCsecond": ("own", True, ""),
    }


def test_the_accounts_display_name_wins_and_an_empty_one_is_filled_in(sides):
    account, mine, anon = sides
    channel(mine, "UC1", display_name="Account's")
    channel(anon, "UC1", display_name="Anonymous")
    channel(mine, "UC2")
    channel(anon, "UC2", display_name="Named anonymously")
    account_attach_client(account=account, client_id=anon)
    names = {c.external_id: c.display_name for c in Channel.objects.filter(client_id=mine)}
    assert names == {"UC1": "Account's", "UC2": "Named anonymously"}
