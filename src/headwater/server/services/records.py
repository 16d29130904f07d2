"""Recording what the SDK did: the hot write path of the whole system.

The SDK orchestrates task runs (and in-process flow runs) itself and sends what happened in batches of
a few thousand items. A batch is written in one transaction with a handful of bulk statements, whatever
its size: the statement count depends on the kinds of items, never on how many there are.

Records are not re-orchestrated; they are facts. Every item carries a client-chosen id, so writing a
batch twice changes nothing. A run's current state is its newest state by timestamp, so states that
arrive late (or out of order across batches) never move a run backwards.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.schemas._base import now_utc
from headwater.schemas.actions import FlowRunCreate, Heartbeat, RecordBatch, RunStateRecord, TaskRunCreate
from headwater.schemas.states import StateCreate
from headwater.server.services._runs import RunProgress, aware, chunks, current_state_values, history_row
from headwater.server.services.flow_runs import insert_flow_runs
from headwater.server.services.flows import ensure_flow_ids
from headwater.server.services.logs import insert_logs
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import RUN_TABLES, flow_runs, task_runs
from headwater.server.storage.types import JSON, Timestamp

RunCreate = FlowRunCreate | TaskRunCreate

_Entry = tuple[UUID, StateCreate, int | None]
"""A state of the batch: its run, the state, and the run count the client gave with it."""


def _first_uuid_order(item: tuple[UUID, object]) -> int:
    # Sorting by the UUID's integer compares in C; UUID.__lt__ is Python and showed in profiles.
    return item[0].int


async def record_batch(db: Database, batch: RecordBatch) -> None:
    """Write a batch of records in one transaction.

    Flow runs and task runs are created (existing ids are left alone), states are added to their runs'
    histories and each run's current state, start and end time and run count brought up to date, log
    lines are stored and heartbeats noted. A state for a run the store does not know is skipped: the
    rest of the batch is still written.
    """
    if len(batch) == 0:
        return
    now = now_utc()
    async with db.write() as conn:
        if batch.flow_runs or batch.flow_run_states:
            await _record_runs(conn, "flow_run", batch.flow_runs, batch.flow_run_states, now)
        if batch.task_runs or batch.task_run_states:
            await _record_runs(conn, "task_run", batch.task_runs, batch.task_run_states, now)
        await insert_logs(conn, batch.logs, now)
        await _record_heartbeats(conn, batch.heartbeats)


async def _record_runs(
    conn: AsyncConnection,
    kind: str,
    creates: Sequence[RunCreate],
    records: Sequence[RunStateRecord],
    now: datetime,
) -> None:
    table, history, run_column = RUN_TABLES[kind]
    new_runs: dict[UUID, RunCreate] = {}
    for create in creates:
        new_runs.setdefault(create.id, create)
    # Every state of the batch with its run, the runs' initial states first.
    entries: list[_Entry] = [
        (run_id, create.state, None) for run_id, create in new_runs.items() if create.state is not None
    ]
    entries.extend((record.run_id, record.state, record.run_count) for record in records)

    existing = await _stored_ids(conn, table.c.id, {run_id for run_id, _, _ in entries} | new_runs.keys())
    for run_id in existing:
        new_runs.pop(run_id, None)
    # Only states of runs stored before this batch can be stored already (the batch is being re-sent).
    stored_states = await _stored_ids(
        conn, history.c.id, {state.id for run_id, state, _ in entries if run_id in existing}
    )
    known_runs = existing | new_runs.keys()
    progress: dict[UUID, RunProgress] = {}
    history_rows: list[dict[str, Any]] = []
    for run_id, state, run_count in entries:
        if state.id in stored_states or run_id not in known_runs:
            continue  # recorded already, or for a run nobody created: skipped, not an error
        stored_states.add(state.id)
        progress.setdefault(run_id, RunProgress()).add(state, run_count)
        history_rows.append(history_row(run_column, run_id, state, now))

    # New runs are inserted already in their newest state: no UPDATE for them.
    await _insert_runs(conn, kind, list(new_runs.values()), progress, now)
    if history_rows:
        # Sorted by id, as every bulk write here, so concurrent writers on PostgreSQL lock rows in one
        # order and cannot deadlock.
        history_rows.sort(key=lambda row: row["id"].int)
        await conn.execute(insert_ignore(conn.dialect.name, history), history_rows)
    updates = [
        _update_params(run_id, p) for run_id, p in sorted(progress.items(), key=_first_uuid_order) if run_id in existing
    ]
    if updates:
        await conn.execute(_catch_up_statement(table), updates)


async def _insert_runs(
    conn: AsyncConnection,
    kind: str,
    creates: list[RunCreate],
    progress: dict[UUID, RunProgress],
    now: datetime,
) -> None:
    creates.sort(key=lambda create: create.id.int)
    if kind == "flow_run":
        flow_creates = [c for c in creates if isinstance(c, FlowRunCreate)]
        if flow_creates:
            flow_ids = await ensure_flow_ids(conn, {c.flow_name for c in flow_creates})
            await insert_flow_runs(conn, flow_creates, flow_ids, progress)
    else:
        await _insert_task_runs(conn, [c for c in creates if isinstance(c, TaskRunCreate)], progress, now)


async def _stored_ids(conn: AsyncConnection, column: sa.Column[Any], ids: Collection[UUID]) -> set[UUID]:
    """Which of `ids` are stored in `column`."""
    found: set[UUID] = set()
    for chunk in chunks(list(ids)):
        found.update((await conn.execute(sa.select(column).where(column.in_(chunk)))).scalars())
    return found


async def _insert_task_runs(
    conn: AsyncConnection, creates: list[TaskRunCreate], progress: dict[UUID, RunProgress], now: datetime
) -> None:
    if not creates:
        return
    rows = [
        {
            "id": create.id,
            "name": create.name,
            "flow_run_id": create.flow_run_id,
            "task_key": create.task_key,
            "dynamic_key": create.dynamic_key,
            "cache_key": create.cache_key,
            "tags": create.tags,
            "child_flow_run_id": create.child_flow_run_id,
            "created": now,
            "updated": now,
            **(progress.get(create.id) or RunProgress()).new_run_values(),
        }
        for create in creates
    ]
    # Ignoring clashes: another process may have written the same run since we looked.
    await conn.execute(insert_ignore(conn.dialect.name, task_runs), rows)


def _update_params(run_id: UUID, progress: RunProgress) -> dict[str, Any]:
    assert progress.newest is not None  # a progress exists because a state was added
    state = current_state_values(progress.newest)
    return {
        "b_id": run_id,
        "b_state_id": state["state_id"],
        "b_state_type": state["state_type"],
        "b_state_name": state["state_name"],
        "b_state_timestamp": state["state_timestamp"],
        "b_state": state["state"],
        "b_end_time": progress.end_time,
        "b_first_running": progress.first_running,
        "b_running_without_count": progress.running_without_count,
        "b_run_count_floor": progress.run_count_floor,
    }


@functools.cache
def _catch_up_statement(table: sa.Table) -> sa.Update:
    """One UPDATE, run for many runs at once, that brings a stored run up to date with new states.

    The current state moves only to a state at least as new as it (a late, older state leaves it); the
    start time only moves earlier; the run count only grows. SET expressions see the row as it was
    before the update on both dialects, so every CASE compares against the old current state.
    """
    c = table.c
    timestamp = sa.bindparam("b_state_timestamp", type_=Timestamp)
    newer = sa.or_(c.state_timestamp.is_(None), c.state_timestamp <= timestamp)

    def if_newer(column: sa.Column[Any], param: str, type_: Any) -> sa.ColumnElement[Any]:
        return sa.case((newer, sa.bindparam(param, type_=type_)), else_=column)

    first_running = sa.bindparam("b_first_running", type_=Timestamp)
    counted = c.run_count + sa.bindparam("b_running_without_count", type_=sa.Integer)
    floor = sa.bindparam("b_run_count_floor", type_=sa.Integer)
    return (
        sa.update(table)
        .where(c.id == sa.bindparam("b_id", type_=sa.Uuid))
        .values(
            state_id=if_newer(c.state_id, "b_state_id", sa.Uuid),
            state_type=if_newer(c.state_type, "b_state_type", sa.String),
            state_name=if_newer(c.state_name, "b_state_name", sa.String),
            state=if_newer(c.state, "b_state", JSON),
            end_time=if_newer(c.end_time, "b_end_time", Timestamp),
            state_timestamp=sa.case((newer, timestamp), else_=c.state_timestamp),
            start_time=sa.case(
                (
                    sa.and_(
                        first_running.is_not(None),
                        sa.or_(c.start_time.is_(None), c.start_time > first_running),
                    ),
                    first_running,
                ),
                else_=c.start_time,
            ),
            run_count=sa.case((counted > floor, counted), else_=floor),
        )
    )


async def _record_heartbeats(conn: AsyncConnection, heartbeats: Sequence[Heartbeat]) -> None:
    latest: dict[UUID, datetime] = {}
    for heartbeat in heartbeats:
        timestamp = aware(heartbeat.timestamp)
        if heartbeat.flow_run_id not in latest or timestamp > latest[heartbeat.flow_run_id]:
            latest[heartbeat.flow_run_id] = timestamp
    if not latest:
        return
    beat = sa.bindparam("b_heartbeat", type_=Timestamp)
    statement = (
        sa.update(flow_runs)
        .where(
            flow_runs.c.id == sa.bindparam("b_id", type_=sa.Uuid),
            sa.or_(flow_runs.c.heartbeat.is_(None), flow_runs.c.heartbeat < beat),
        )
        .values(heartbeat=beat)
    )
    await conn.execute(statement, [{"b_id": run_id, "b_heartbeat": ts} for run_id, ts in sorted(latest.items())])
