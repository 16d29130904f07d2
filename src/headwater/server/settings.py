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
    """

    database_url: str
    auth_string: str | None = None
    crash_detection_grace_seconds: float = 60.0
    crash_detection_loop_seconds: float = 5.0
