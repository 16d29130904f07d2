"""Late runs: a SCHEDULED run still waiting well after its due time is renamed `Late` (it stays SCHEDULED),
so people see that no worker picked it up."""

from __future__ import annotations

import logging

from headwater.server.services.scheduling import mark_late_runs
from headwater.server.storage.database import Database

_log = logging.getLogger("headwater.server.loops")


class LateRuns:
    """Marks SCHEDULED runs due more than `late_after_seconds` ago as `Late`.

    Args:
        db: the store.
        late_after_seconds: how long past its due time a run may wait before it is late.
        interval_seconds: how often to look.
    """

    name = "late-runs"

    def __init__(self, db: Database, late_after_seconds: float, interval_seconds: float) -> None:
        self.db = db
        self.late_after_seconds = late_after_seconds
        self.interval_seconds = interval_seconds

    async def run_once(self) -> int:
        """Mark the late runs found now; returns how many were marked."""
        marked = await mark_late_runs(self.db, self.late_after_seconds)
        if marked:
            _log.info("Marked %d flow run(s) Late.", marked)
        return marked
