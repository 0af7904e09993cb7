"""Page/offset arithmetic for list endpoints and tools (pages are numbered from 1).

``pages`` is ``ceil(total / page_size)``; an empty list has 0 pages but page 1 is still
valid (and empty), so a client's first request never fails. Any other page beyond the
last raises ``ValueError``, as do a page below 1, a page size below 1 or above
``max_page_size`` and a negative total.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Page(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int
    page: int
    page_size: int
    pages: int
    offset: int  # first item of the page (0-based)
    limit: int  # items on this page
    has_next: bool
    has_previous: bool
    next_page: int | None
    previous_page: int | None


def paginate(*, total: int, page: int = 1, page_size: int = 20, max_page_size: int = 100) -> Page:
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    if max_page_size < 1:
        raise ValueError(f"max_page_size must be >= 1, got {max_page_size}")
    if not 1 <= page_size <= max_page_size:
        raise ValueError(f"page_size must be between 1 and {max_page_size}, got {page_size}")
    if page < 1:
        raise ValueError(f"page must be >= 1, got {page}")
    pages = -(-total // page_size)
    if page > max(1, pages):
        raise ValueError(f"page {page} is out of range: there are {pages} page(s)")
    offset = (page - 1) * page_size
    has_next = page < pages
    has_previous = page > 1
    return Page(
        total=total,
        page=page,
        page_size=page_size,
        pages=pages,
        offset=offset,
        limit=max(0, min(page_size, total - offset)),
        has_next=has_next,
        has_previous=has_previous,
        next_page=page + 1 if has_next else None,
        previous_page=page - 1 if has_previous else None,
    )


__all__ = ["Page", "paginate"]
