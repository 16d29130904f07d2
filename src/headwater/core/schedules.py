"""Schedule maths: the times a cron expression, an interval or an RRULE is due. Pure, no I/O.

Cron and RRULE times are wall-clock times in the schedule's time zone (so `0 9 * * *` in
`Europe/Paris` stays at 9:00 across daylight-saving changes); intervals are exact elapsed time from
their anchor. Every time returned is timezone-aware UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The time zone named `name` (IANA, e.g. `America/New_York`).

    Raises:
        ValueError: No such time zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: give an IANA name such as 'UTC' or 'Europe/Paris'") from None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def cron_times(expression: str, after: datetime, *, timezone: str = "UTC", day_or: bool = True) -> Iterator[datetime]:
    """The times a cron expression is due, strictly after `after`, in order.

    Raises:
        ValueError: The expression or the time zone is invalid.
    """
    from croniter import croniter

    tz = zone(timezone)
    try:
        iterator = croniter(expression, _utc(after).astimezone(tz), day_or=day_or)
    except Exception as exc:  # croniter raises several error types, all meaning "not a valid expression"
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
    while True:
        yield _utc(iterator.get_next(datetime))


def interval_times(seconds: float, anchor: datetime, after: datetime) -> Iterator[datetime]:
    """The times `anchor + k * seconds` (k >= 0) strictly after `after`, in order.

    Raises:
        ValueError: The interval is not positive.
    """
    if not seconds > 0:
        raise ValueError(f"an interval must be a positive number of seconds, not {seconds!r}")
    anchor, after = _utc(anchor), _utc(after)
    step = timedelta(seconds=seconds)
    k = 0 if after < anchor else math.floor((after - anchor) / step)
    while True:
        due = anchor + k * step
        if due > after:
            yield due
        k += 1


def rrule_times(text: str, anchor: datetime, after: datetime, *, timezone: str = "UTC") -> Iterator[datetime]:
    """The times an RRULE (RFC 5545, e.g. `FREQ=WEEKLY;BYDAY=MO;BYHOUR=9`) is due, strictly after `after`.

    The rule runs on wall-clock time in `timezone`: a DTSTART in the text is read as a time there (its own
    zone, if any, is ignored), and without one the rule starts at `anchor`.

    Raises:
        ValueError: The rule or the time zone is invalid.
    """
    from dateutil.rrule import rrulestr  # type: ignore[import-untyped]  # installed with croniter, untyped

    tz = zone(timezone)

    def wall_clock(value: datetime) -> datetime:
        return _utc(value).astimezone(tz).replace(tzinfo=None)

    try:
        rule = rrulestr(text, dtstart=wall_clock(anchor).replace(microsecond=0), forceset=True, ignoretz=True)
    except Exception as exc:  # dateutil raises ValueError and others for a malformed rule
        raise ValueError(f"invalid rrule {text!r}: {exc}") from None
    for due in rule.xafter(wall_clock(after), inc=False):
        yield _utc(due.replace(tzinfo=tz))


def first(times: Iterator[datetime], count: int) -> list[datetime]:
    """The first `count` times of an iterator of due times."""
    return list(islice(times, count))
