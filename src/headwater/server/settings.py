"""What the server needs to know, handed to it by its composition root (the CLI or a test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSettings:
    """The server's configuration.

    Args:
        database_url: SQLAlchemy async URL (`sqlite+aiosqlite:///…` or `postgresql+asyncpg://…`).
        auth_string: when set, every API call must carry it as a bearer token.
        crash_detection_grace_seconds: a RUNNING flow run whose last heartbeat is older is CRASHED.
        crash_detection_loop_seconds: how often to look.
        max_body_bytes: request bodies larger than this are refused with 413.
        scheduler_loop_seconds: how often the scheduler creates the upcoming runs of deployment schedules.
        scheduler_max_runs: at most this many upcoming runs per schedule are created ahead …
        scheduler_horizon_seconds: … within this many seconds from now …
        scheduler_min_runs: … and at least this many, however far away.
        late_runs_after_seconds: a SCHEDULED run this long past its due time is marked `Late`.
        late_runs_loop_seconds: how often to look for late runs.
    """

    database_url: str
    auth_string: str | None = None
    crash_detection_grace_seconds: float = 60.0
    crash_detection_loop_seconds: float = 5.0
    max_body_bytes: int = 64 * 1024 * 1024
    scheduler_loop_seconds: float = 5.0
    scheduler_max_runs: int = 3
    scheduler_horizon_seconds: float = 3600.0
    scheduler_min_runs: int = 1
    late_runs_after_seconds: float = 15.0
    late_runs_loop_seconds: float = 5.0
