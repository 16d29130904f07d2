"""A deployment schedule's due times: `ScheduleSpec` over the pure maths of `headwater.core.schedules`."""

from __future__ import annotations

from datetime import datetime

from headwater.core import schedules
from headwater.exceptions import InvalidInput
from headwater.schemas.deployments import ScheduleSpec


def due_times(spec: ScheduleSpec, *, created: datetime, after: datetime, count: int) -> list[datetime]:
    """The first `count` times the schedule is due strictly after `after` (UTC).

    An interval without `anchor_date` counts from `created` (when the schedule was stored); so does an
    RRULE without a DTSTART.

    Raises:
        ValueError: The cron expression, RRULE or time zone is invalid.
    """
    anchor = spec.anchor_date or created
    if spec.cron is not None:
        times = schedules.cron_times(spec.cron, after, timezone=spec.timezone, day_or=spec.day_or)
    elif spec.interval is not None:
        schedules.zone(spec.timezone)  # an unknown zone is an error for every kind of schedule
        times = schedules.interval_times(spec.interval, anchor, after)
    else:
        assert spec.rrule is not None  # the schema requires exactly one of the three
        times = schedules.rrule_times(spec.rrule, anchor, after, timezone=spec.timezone)
    return schedules.first(times, count)


def check_schedule(spec: ScheduleSpec, position: int, now: datetime) -> None:
    """Raise `InvalidInput` when the schedule cannot produce due times (bad cron, RRULE or time zone).

    Raises:
        InvalidInput: Naming the schedule (by position) and what is wrong with it.
    """
    try:
        due_times(spec, created=now, after=now, count=1)
    except ValueError as exc:
        raise InvalidInput(f"schedule {position + 1}: {exc}") from None
