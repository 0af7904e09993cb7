from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.pagination import paginate


@given(st.integers(0, 10_000), st.integers(1, 100))
def test_pages_cover_every_item_exactly_once(total: int, size: int) -> None:
    first = paginate(total=total, page=1, page_size=size)
    assert first.pages == (total + size - 1) // size
    covered = []
    page = first
    while True:
        assert page.offset == (page.page - 1) * size
        covered.extend(range(page.offset, page.offset + page.limit))
        assert page.has_previous == (page.page > 1)
        assert page.previous_page == (page.page - 1 if page.page > 1 else None)
        if page.next_page is None:
            assert not page.has_next
            break
        assert page.has_next and page.next_page == page.page + 1
        page = paginate(total=total, page=page.next_page, page_size=size)
    assert covered == list(range(total))


def test_empty_list_has_one_empty_page() -> None:
    page = paginate(total=0, page=1, page_size=20)
    assert (page.pages, page.offset, page.limit, page.has_next) == (0, 0, 0, False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total": 10, "page": 0}, "page must be >= 1"),
        ({"total": 10, "page": 2, "page_size": 10}, "out of range"),
        ({"total": 0, "page": 2}, "out of range"),
        ({"total": 10, "page_size": 0}, "page_size"),
        ({"total": 10, "page_size": 101}, "page_size"),
        ({"total": -1}, "total"),
        ({"total": 1, "max_page_size": 0}, "max_page_size"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        paginate(**kwargs)
