"""Schedule maths (`headwater.core.schedules`): cron with time zones, intervals from an anchor, RRULEs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.core.schedules import cron_times, first, interval_times, rrule_times, zone


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_cron_follows_wall_clock_time_in_its_time_zone_across_daylight_saving() -> None:
    # New York moves from UTC-5 to UTC-4 on 2025-03-09: 09:00 local is 14:00 UTC, then 13:00 UTC.
    times = first(cron_times("0 9 * * *", utc(2025, 3, 8, 12), timezone="America/New_York"), 3)
    assert times == [utc(2025, 3, 8, 14), utc(2025, 3, 9, 13), utc(2025, 3, 10, 13)]
    assert all(t.tzinfo is UTC for t in times)


def test_cron_times_are_strictly_after_the_start() -> None:
    assert first(cron_times("*/15 * * * *", utc(2025, 1, 1, 12, 0)), 2) == [
        utc(2025, 1, 1, 12, 15),
        utc(2025, 1, 1, 12, 30),
    ]


def test_cron_day_or() -> None:
    # The 1st of the month, or a Monday (cron's rule), versus the 1st when it is a Monday.
    either = first(cron_times("0 0 1 * 1", utc(2025, 9, 1, 12)), 2)
    both = first(cron_times("0 0 1 * 1", utc(2025, 9, 1, 12), day_or=False), 1)
    assert either == [utc(2025, 9, 8), utc(2025, 9, 15)]
    assert both == [utc(2025, 12, 1)]


def test_intervals_count_from_their_anchor() -> None:
    anchor = utc(2025, 1, 1, 0, 0, 7)
    assert first(interval_times(3600, anchor, utc(2025, 1, 1, 5, 30)), 2) == [
        utc(2025, 1, 1, 6, 0, 7),
        utc(2025, 1, 1, 7, 0, 7),
    ]
    assert first(interval_times(60, anchor, utc(2024, 12, 31)), 1) == [anchor]
    assert first(interval_times(0.5, anchor, anchor), 1) == [anchor + timedelta(seconds=0.5)]


def test_rrules_in_a_time_zone_with_and_without_dtstart() -> None:
    times = first(
        rrule_times(
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
            utc(2025, 1, 1),
            utc(2025, 3, 1),
            timezone="Europe/Paris",
        ),
        2,
    )
    assert times == [utc(2025, 3, 3, 8), utc(2025, 3, 10, 8)]
    daily = first(
        rrule_times("DTSTART:20250101T063000\nRRULE:FREQ=DAILY;COUNT=3", utc(2020, 1, 1), utc(2025, 1, 1, 12)), 5
    )
    assert daily == [utc(2025, 1, 2, 6, 30), utc(2025, 1, 3, 6, 30)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: first(cron_times("every day", utc(2025, 1, 1)), 1), "invalid cron expression 'every day'"),
        (lambda: first(rrule_times("FREQ=SOMETIMES", utc(2025, 1, 1), utc(2025, 1, 1)), 1), "invalid rrule"),
        (lambda: first(interval_times(0, utc(2025, 1, 1), utc(2025, 1, 1)), 1), "positive number of seconds"),
        (lambda: zone("Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
