"""Finding flow runs that stopped sending heartbeats: their process died without saying so."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from headwater.core.states import StateType
from headwater.server.storage.database import Database
from headwater.server.storage.tables import flow_runs


async def read_silent_running_flow_runs(db: Database, cutoff: datetime, limit: int = 500) -> list[UUID]:
    """RUNNING flow runs whose last sign of life (heartbeat, else start) is older than `cutoff`."""
    c = flow_runs.c
    last_seen = sa.func.coalesce(c.heartbeat, c.start_time, c.state_timestamp)
    query = (
        sa.select(c.id)
        .where(c.state_type == StateType.RUNNING.value, last_seen < cutoff)
        .order_by(last_seen)
        .limit(limit)
    )
    async with db.read() as conn:
        return list((await conn.execute(query)).scalars())
