"""Task runs: read and list. They are written by `records` (the SDK orchestrates them itself)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from headwater.exceptions import ObjectNotFound
from headwater.schemas.filters import TaskRunFilter
from headwater.schemas.objects import TaskRun
from headwater.schemas.states import StateSchema
from headwater.server.services._runs import state_from_history, task_run_from_row
from headwater.server.storage.database import Database
from headwater.server.storage.tables import TASK_RUN_START_ORDER, task_run_states, task_runs


async def read_task_run(db: Database, task_run_id: UUID) -> TaskRun:
    """One task run.

    Raises:
        ObjectNotFound: No task run has this id.
    """
    async with db.read() as conn:
        row = (await conn.execute(sa.select(task_runs).where(task_runs.c.id == task_run_id))).first()
    if row is None:
        raise ObjectNotFound(f"no task run with id {task_run_id}")
    return task_run_from_row(row)


async def read_task_runs(db: Database, task_run_filter: TaskRunFilter) -> list[TaskRun]:
    """The task runs matching a filter, oldest first (by start time, or creation for runs that have not
    started), one page (`limit`, `offset`) of them."""
    f = task_run_filter
    conditions: list[sa.ColumnElement[bool]] = []
    if f.id is not None:
        conditions.append(task_runs.c.id.in_(f.id))
    if f.flow_run_id is not None:
        conditions.append(task_runs.c.flow_run_id.in_(f.flow_run_id))
    if f.state_type is not None:
        conditions.append(task_runs.c.state_type.in_([t.value for t in f.state_type]))
    query = (
        sa.select(task_runs)
        .where(*conditions)
        # The same expression as the index on (flow_run_id, start order, id), so a flow run's task runs
        # are read in index order.
        .order_by(TASK_RUN_START_ORDER, task_runs.c.id)
        .limit(f.limit)
        .offset(f.offset)
    )
    async with db.read() as conn:
        return [task_run_from_row(row) for row in await conn.execute(query)]


async def read_task_run_states(db: Database, task_run_id: UUID) -> list[StateSchema]:
    """A task run's state history, oldest first (empty for an unknown run)."""
    query = (
        sa.select(task_run_states)
        .where(task_run_states.c.task_run_id == task_run_id)
        .order_by(task_run_states.c.timestamp, task_run_states.c.created)
    )
    async with db.read() as conn:
        return [state_from_history(row) for row in await conn.execute(query)]
