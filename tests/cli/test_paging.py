"""How the CLI walks listings that are read by offset: pages, and counting by probing."""

from __future__ import annotations

import pytest

from headwater.cli._store import count_by_probing, pages


@pytest.mark.parametrize("size", [0, 1, 2, 1023, 1024, 1025, 5000, 100_000])
def test_count_by_probing_finds_the_size_in_few_reads(size: int) -> None:
    probes: list[int] = []

    def has_item_at(offset: int) -> bool:
        probes.append(offset)
        return offset < size

    assert count_by_probing(has_item_at) == size
    assert len(probes) <= 2 * max(size, 1024).bit_length() + 2  # the first probe is at 1024


@pytest.mark.parametrize(
    ("total", "limit", "start", "expected_pages"),
    [
        (25, None, 0, [10, 10, 5]),
        (20, None, 0, [10, 10]),
        (25, 12, 0, [10, 2]),
        (25, None, 18, [7]),
        (25, 100, 0, [10, 10, 5]),
        (0, None, 0, []),
    ],
)
def test_pages_stop_at_a_short_page_or_the_limit(
    total: int, limit: int | None, start: int, expected_pages: list[int]
) -> None:
    items = list(range(total))

    walked = list(pages(lambda offset, size: items[offset : offset + size], page_size=10, limit=limit, start=start))

    assert [len(page) for page in walked] == expected_pages
    assert [item for page in walked for item in page] == items[start:][: limit or None]
