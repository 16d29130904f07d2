"""Waiting for a flow run to finish (long-poll), as `run_deployment` does for the run it started."""

from __future__ import annotations

import time
from uuid import UUID

from headwater.core.states import is_terminal
from headwater.schemas.objects import FlowRun
from headwater.server.services import notifications
from headwater.server.services.flow_runs import read_flow_run
from headwater.server.storage.database import Database

REQUERY_SECONDS = 0.1
"""How often the run is read again while waiting. A state proposed in this process wakes the wait at
once; states recorded after the fact (`records`, the SDK's batches) and states written by other
processes are seen at the next read."""


async def wait_for_flow_run(db: Database, flow_run_id: UUID, timeout_seconds: float) -> FlowRun:
    """The flow run as soon as it is final (COMPLETED, FAILED, CANCELLED or CRASHED), or as it is once
    `timeout_seconds` have passed. No database connection is held while waiting.

    Raises:
        ObjectNotFound: No flow run has this id.
    """
    deadline = time.monotonic() + max(timeout_seconds, 0)
    async with notifications.listen(notifications.flow_run_topic(flow_run_id)) as listener:
        while True:
            flow_run = await read_flow_run(db, flow_run_id)
            remaining = deadline - time.monotonic()
            if is_terminal(flow_run.state_type) or remaining <= 0:
                return flow_run
            await listener.wait(min(REQUERY_SECONDS, remaining))
