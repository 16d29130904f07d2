"""Flow runs: create, read, list, count and delete. Proposing states goes through `orchestration`."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import StateType
from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.actions import FlowRunCreate
from headwater.schemas.filters import FlowRunFilter
from headwater.schemas.objects import FlowRun
from headwater.schemas.states import StateSchema
from headwater.server.services._flow_run_queries import flow_run_conditions, flow_run_order, select_flow_runs
from headwater.server.services._runs import (
    RunProgress,
    flow_run_from_row,
    history_row,
    state_from_history,
)
from headwater.server.services.flows import ensure_flow_ids
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import flow_run_states, flow_runs, logs, task_run_states, task_runs

INITIAL_STATES = frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING})
"""The states a flow run may be created in."""


async def create_flow_run(db: Database, create: FlowRunCreate) -> FlowRun:
    """Create a flow run (and its flow, if new), in its initial state if one is given.

    Creating a run whose id exists already changes nothing and returns the stored run, so a client
    may safely retry a create whose answer it never got.

    Raises:
        InvalidInput: The initial state is not SCHEDULED, PENDING or RUNNING.
    """
    if create.state is not None and create.state.type not in INITIAL_STATES:
        raise InvalidInput(
            f"a flow run cannot be created in state {create.state.type.value}; "
            f"give SCHEDULED, PENDING or RUNNING (or no state), then propose further states"
        )
    async with db.write() as conn:
        existing = await _read_flow_run(conn, create.id)
        if existing is not None:
            return existing
        flow_ids = await ensure_flow_ids(conn, [create.flow_name])
        await insert_flow_runs(conn, [create], flow_ids, {create.id: _initial_progress(create)})
        if create.state is not None:
            now = now_utc()
            await conn.execute(sa.insert(flow_run_states), [history_row("flow_run_id", create.id, create.state, now)])
        created = await _read_flow_run(conn, create.id)
    assert created is not None  # inserted just above, in this transaction
    return created


def _initial_progress(create: FlowRunCreate) -> RunProgress:
    progress = RunProgress()
    if create.state is not None:
        progress.add(create.state)
    return progress


async def insert_flow_runs(
    conn: AsyncConnection,
    creates: list[FlowRunCreate],
    flow_ids: dict[str, UUID],
    progress: dict[UUID, RunProgress],
) -> None:
    """Insert new flow runs, each already carrying the state its `progress` leads to (one statement)."""
    now = now_utc()
    rows = []
    for create in creates:
        run_progress = progress.get(create.id) or RunProgress()
        rows.append(
            {
                "id": create.id,
                "name": create.name,
                "flow_id": flow_ids[create.flow_name],
                "parent_task_run_id": create.parent_task_run_id,
                "parameters": create.parameters,
                "tags": create.tags,
                "expected_start_time": run_progress.expected_start_time or now,
                "heartbeat": None,
                "created": now,
                "updated": now,
                **run_progress.new_run_values(),
            }
        )
    if rows:
        # Ignoring clashes: on PostgreSQL another writer may have created the same run since we looked.
        await conn.execute(insert_ignore(conn.dialect.name, flow_runs), rows)


async def read_flow_run(db: Database, flow_run_id: UUID) -> FlowRun:
    """One flow run.

    Raises:
        ObjectNotFound: No flow run has this id.
    """
    async with db.read() as conn:
        flow_run = await _read_flow_run(conn, flow_run_id)
    if flow_run is None:
        raise ObjectNotFound(f"no flow run with id {flow_run_id}")
    return flow_run


async def _read_flow_run(conn: AsyncConnection, flow_run_id: UUID) -> FlowRun | None:
    row = (await conn.execute(select_flow_runs().where(flow_runs.c.id == flow_run_id))).first()
    return None if row is None else flow_run_from_row(row)


async def read_flow_runs(db: Database, flow_run_filter: FlowRunFilter) -> list[FlowRun]:
    """The flow runs matching a filter, in its order, one page (`limit`, `offset`) of them."""
    query = (
        select_flow_runs()
        .where(*flow_run_conditions(flow_run_filter, db.dialect_name))
        .order_by(*flow_run_order(flow_run_filter.sort))
        .limit(flow_run_filter.limit)
        .offset(flow_run_filter.offset)
    )
    async with db.read() as conn:
        return [flow_run_from_row(row) for row in await conn.execute(query)]


async def count_flow_runs(db: Database, flow_run_filter: FlowRunFilter) -> int:
    """How many flow runs match a filter (its `limit` and `offset` are ignored)."""
    query = (
        sa.select(sa.func.count()).select_from(flow_runs).where(*flow_run_conditions(flow_run_filter, db.dialect_name))
    )
    async with db.read() as conn:
        return (await conn.execute(query)).scalar_one()


async def read_flow_run_states(db: Database, flow_run_id: UUID) -> list[StateSchema]:
    """A flow run's state history, oldest first (empty for an unknown run)."""
    query = (
        sa.select(flow_run_states)
        .where(flow_run_states.c.flow_run_id == flow_run_id)
        .order_by(flow_run_states.c.timestamp, flow_run_states.c.created)
    )
    async with db.read() as conn:
        return [state_from_history(row) for row in await conn.execute(query)]


async def delete_flow_run(db: Database, flow_run_id: UUID) -> None:
    """Delete a flow run with its states, its task runs (and their states) and its logs.

    Its subflow runs stay: they are runs of their own, and keep pointing at their (deleted) parent task run.

    Raises:
        ObjectNotFound: No flow run has this id.
    """
    async with db.write() as conn:
        exists = (await conn.execute(sa.select(flow_runs.c.id).where(flow_runs.c.id == flow_run_id))).first()
        if exists is None:
            raise ObjectNotFound(f"no flow run with id {flow_run_id}")
        its_task_runs = sa.select(task_runs.c.id).where(task_runs.c.flow_run_id == flow_run_id)
        await conn.execute(sa.delete(logs).where(logs.c.flow_run_id == flow_run_id))
        await conn.execute(sa.delete(task_run_states).where(task_run_states.c.task_run_id.in_(its_task_runs)))
        await conn.execute(sa.delete(task_runs).where(task_runs.c.flow_run_id == flow_run_id))
        # States would go with the run (ON DELETE CASCADE); deleting them first does not rely on it.
        await conn.execute(sa.delete(flow_run_states).where(flow_run_states.c.flow_run_id == flow_run_id))
        await conn.execute(sa.delete(flow_runs).where(flow_runs.c.id == flow_run_id))
