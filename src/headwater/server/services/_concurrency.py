"""Counting the runs that hold a concurrency slot, for work pools, work queues and deployments alike."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import StateType
from headwater.server.storage.tables import flow_runs

ACTIVE_STATES: frozenset[StateType] = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CANCELLING})
"""A run in one of these states holds a slot: it was claimed and has not finished (a cancelling run's
process may still be running)."""

_ACTIVE_VALUES = sorted(state.value for state in ACTIVE_STATES)


async def active_runs_by(
    conn: AsyncConnection, column: sa.Column[Any], ids: Collection[UUID], *, excluding: UUID | None = None
) -> dict[UUID, int]:
    """How many active runs each of `ids` has, by a `flow_runs` column (`work_queue_id` or
    `deployment_id`); ids without any are left out. `excluding` is a run not to count (the one asking)."""
    if not ids:
        return {}
    conditions: list[sa.ColumnElement[bool]] = [column.in_(list(ids)), flow_runs.c.state_type.in_(_ACTIVE_VALUES)]
    if excluding is not None:
        conditions.append(flow_runs.c.id != excluding)
    query = sa.select(column, sa.func.count()).where(*conditions).group_by(column)
    return {key: count for key, count in await conn.execute(query)}


def free_slots(limit: int | None, active: int) -> int | None:
    """Slots left under a limit (None: no limit)."""
    return None if limit is None else max(limit - active, 0)
