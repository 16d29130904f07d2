"""Schedule helpers: `Cron("0 6 * * *", timezone="Europe/Paris")`, `Interval(3600)`, `RRule("FREQ=…")`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from headwater.schemas.deployments import DeploymentScheduleCreate, ScheduleSpec


def Cron(expression: str, timezone: str = "UTC", day_or: bool = True, active: bool = True) -> DeploymentScheduleCreate:
    """A cron schedule, evaluated in `timezone`."""
    return DeploymentScheduleCreate(schedule=ScheduleSpec(cron=expression, timezone=timezone, day_or=day_or),
                                    active=active)


def Interval(
    every: float | timedelta, anchor_date: datetime | None = None, timezone: str = "UTC", active: bool = True
) -> DeploymentScheduleCreate:
    """A run every `every` (seconds or a timedelta), counted from `anchor_date`."""
    seconds = every.total_seconds() if isinstance(every, timedelta) else float(every)
    return DeploymentScheduleCreate(
        schedule=ScheduleSpec(interval=seconds, anchor_date=anchor_date, timezone=timezone), active=active
    )


def RRule(rule: str, timezone: str = "UTC", active: bool = True) -> DeploymentScheduleCreate:
    """An iCalendar recurrence rule (RFC 5545), e.g. `FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9`."""
    return DeploymentScheduleCreate(schedule=ScheduleSpec(rrule=rule, timezone=timezone), active=active)


def collect_schedules(
    *,
    cron: str | None = None,
    interval: float | timedelta | None = None,
    rrule: str | None = None,
    schedule: Any = None,
    schedules: list[Any] | None = None,
    timezone: str = "UTC",
) -> list[DeploymentScheduleCreate]:
    """The schedules given in any of the accepted forms, as one list (and a clear error for bad ones)."""
    found: list[DeploymentScheduleCreate] = []
    if cron:
        found.append(Cron(cron, timezone))
    if interval:
        found.append(Interval(interval, timezone=timezone))
    if rrule:
        found.append(RRule(rrule, timezone))
    for item in ([schedule] if schedule is not None else []) + list(schedules or []):
        if isinstance(item, DeploymentScheduleCreate):
            found.append(item)
        elif isinstance(item, ScheduleSpec):
            found.append(DeploymentScheduleCreate(schedule=item))
        elif isinstance(item, dict):
            found.append(DeploymentScheduleCreate(schedule=ScheduleSpec.model_validate(item)))
        else:
            raise TypeError(f"Not a schedule: {item!r}. Use Cron(...), Interval(...) or RRule(...).")
    return found
