"""The scheduler: creates the upcoming runs of deployments' schedules ahead of time, so workers find them
in their queues when they come due."""

from __future__ import annotations

import logging
from datetime import timedelta

from headwater.server.services.scheduling import Lookahead, schedule_deployments
from headwater.server.storage.database import Database

_log = logging.getLogger("headwater.server.loops")


class Scheduler:
    """Creates scheduled runs for every active schedule of every unpaused deployment.

    Each round creates, per schedule, the due times within `horizon_seconds` (at most `max_runs`, at
    least `min_runs` however far away); a run already created is not created again (its idempotency key
    names the deployment and the time), so rounds may overlap and servers may run several schedulers.

    Args:
        db: the store.
        interval_seconds: how often to look.
        max_runs, min_runs, horizon_seconds: how far ahead runs are created.
    """

    name = "scheduler"

    def __init__(
        self,
        db: Database,
        interval_seconds: float,
        *,
        max_runs: int = 3,
        min_runs: int = 1,
        horizon_seconds: float = 3600.0,
    ) -> None:
        self.db = db
        self.interval_seconds = interval_seconds
        self.lookahead = Lookahead(max_runs=max_runs, min_runs=min_runs, horizon=timedelta(seconds=horizon_seconds))

    async def run_once(self) -> int:
        """Create the runs due soon; returns how many were created."""
        created = await schedule_deployments(self.db, self.lookahead)
        if created:
            _log.info("Scheduled %d flow run(s).", created)
        return created
