"""Crash detection: a RUNNING flow run whose heartbeats stopped is marked CRASHED, saying why."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from headwater.core.states import StateType
from headwater.schemas.responses import SetStateStatus
from headwater.schemas.states import StateCreate
from headwater.server.services.heartbeats import read_silent_running_flow_runs
from headwater.server.services.orchestration import set_flow_run_state
from headwater.server.storage.database import Database

_log = logging.getLogger("headwater.server.loops")


class CrashDetection:
    """Marks silent RUNNING flow runs CRASHED.

    Args:
        db: the store.
        grace_seconds: how long a run may go without a heartbeat.
        interval_seconds: how often to look.
    """

    name = "crash-detection"

    def __init__(self, db: Database, grace_seconds: float, interval_seconds: float) -> None:
        self.db = db
        self.grace_seconds = grace_seconds
        self.interval_seconds = interval_seconds

    async def run_once(self) -> int:
        """Mark the silent runs found now; returns how many were marked."""
        now = datetime.now(UTC)
        marked = 0
        for run_id in await read_silent_running_flow_runs(self.db, now - timedelta(seconds=self.grace_seconds)):
            state = StateCreate(
                type=StateType.CRASHED,
                message=(
                    f"No heartbeat for over {self.grace_seconds:g} seconds: the process running this flow "
                    "run stopped without reporting (killed, out of memory, or its machine went away)."
                ),
            )
            result = await set_flow_run_state(self.db, run_id, state)
            if result.status is SetStateStatus.ACCEPT:
                marked += 1
                _log.warning("Flow run %s marked CRASHED: no heartbeat.", run_id)
        return marked
