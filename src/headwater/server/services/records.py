"""Recording what the SDK did: the hot write path of the whole system.

The SDK orchestrates task runs (and in-process flow runs) itself and sends what happened in batches of
a few thousand items. A batch is written in one transaction with a handful of bulk statements, whatever
its size: the statement count depends on the kinds of items, never on how many there are.

Records are not re-orchestrated; they are facts. Every item carries a client-chosen id, so writing a
batch twice changes nothing. A run's current state is its newest state by timestamp, so states that
arrive late (or out of order across batches) never move a run backwards.

Speed: a flow of trivial tasks records two items per task run, and the embedded writer shares the
process (and the GIL) with the flow, so each microsecond spent here per task run slows the flow down
and delays the moment its runs can be read. Hence, for task runs and states:

- the bulk statements are compiled once per dialect and executed through the driver, every value
  converted to what the driver takes in one pass over the batch (`DriverFormat`), instead of through
  SQLAlchemy's per-row, per-column bind processors, which cost several times the database's own work;
- each state is converted once (its timestamp serves its history row and its run's columns), ids are
  handled as integers (`UUID.__hash__` is Python), and the garbage collector waits (`_gc_paused`);
- on SQLite, the runs a batch creates are inserted without looking them up first
  (`_insert_task_runs_unseen`).

Flow runs (a handful per batch, in a table other features add columns to), logs and heartbeats go through
SQLAlchemy Core as usual.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import DEFAULT_NAMES
from headwater.schemas._base import now_utc
from headwater.schemas.actions import FlowRunCreate, Heartbeat, RecordBatch, RunStateRecord, TaskRunCreate
from headwater.schemas.states import StateCreate, StateDetails
from headwater.server.services._runs import IN_CHUNK, RunProgress, aware, chunks, current_state_json
from headwater.server.services.flow_runs import insert_flow_runs
from headwater.server.services.flows import ensure_flow_ids
from headwater.server.services.logs import insert_logs
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import RUN_TABLES, flow_runs, task_runs
from headwater.server.storage.types import JSON, DriverFormat, Timestamp, driver_format, json_dumps

RunCreate = FlowRunCreate | TaskRunCreate

_TASK_RUN_COLUMNS = (
    "id",
    "name",
    "flow_run_id",
    "task_key",
    "dynamic_key",
    "cache_key",
    "tags",
    "child_flow_run_id",
    "state_id",
    "state_type",
    "state_name",
    "state_timestamp",
    "state",
    "run_count",
    "start_time",
    "end_time",
    "created",
    "updated",
)
"""The columns of a new task run, in the order `_task_run_rows` gives its values."""


def _history_columns(run_column: str) -> tuple[str, ...]:
    """The columns of a state history row, in the order `_record_runs` gives its values."""
    return ("id", run_column, "type", "name", "timestamp", "message", "data", "details", "created", "updated")


_NO_DETAILS = StateDetails().__dict__
"""The field values of empty details: what most states carry, stored without a model dump each time."""
_NO_DETAILS_JSON = json_dumps(StateDetails().model_dump(mode="json", exclude_none=True))


def _first_uuid_order(row: tuple[Any, ...]) -> int:
    # Sorting by the UUID's integer compares in C; UUID.__lt__ is Python and showed in profiles.
    return int(row[0].int)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a batch is converted (synchronous code only).

    Converting a batch allocates tens of thousands of tuples and strings, none of them cyclic garbage,
    and every few hundred allocations would start a collection; full ones walk every live object of the
    process (the flow's, the SDK's, the imported modules'), which showed as the largest single cost of
    the write path. The pause is process-wide but lasts only the conversion; GC left off by the
    application stays off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
    try:
        await _write(db, batch, now, look_up_all=False)
    except _StoredAlready:  # rolled back: written again, every run looked up first
        await _write(db, batch, now, look_up_all=True)


class _StoredAlready(Exception):
    """A task run the batch creates turned out to be stored already (see `_insert_task_runs_unseen`)."""


async def _write(db: Database, batch: RecordBatch, now: datetime, look_up_all: bool) -> None:
    async with db.write() as conn:
        if batch.flow_runs or batch.flow_run_states:
            await _record_runs(conn, "flow_run", batch.flow_runs, batch.flow_run_states, now, look_up_all)
        if batch.task_runs or batch.task_run_states:
            await _record_runs(conn, "task_run", batch.task_runs, batch.task_run_states, now, look_up_all)
        await insert_logs(conn, batch.logs, now)
        await _record_heartbeats(conn, batch.heartbeats)


class _Values:
    """What converts a batch's values to the driver's form."""

    def __init__(self, fmt: DriverFormat, now: datetime) -> None:
        self.fmt = fmt
        self.uuid = fmt.uuid
        self.json = fmt.json
        self.timestamp = fmt.timestamp
        self.hex_ids = fmt.dialect_name == "sqlite"
        """Whether the driver takes ids as 32 hex digits (`f"{uuid.int:032x}"`, what `sa.Uuid` stores)."""
        self.now = fmt.timestamp(now)


class _BatchRuns:
    """The runs of one kind in a batch, and their states, keyed by the ids' integers.

    (A UUID hashes in Python, `UUID.__hash__`; its `int` in C. Sets and dicts of ids are used several
    times per state here, which showed in profiles.)
    """

    def __init__(self, creates: Sequence[RunCreate], records: Sequence[RunStateRecord]) -> None:
        self.new: dict[int, RunCreate] = {}
        """The runs the batch creates (the first create of an id), less those found stored already."""
        for create in creates:
            self.new.setdefault(create.id.int, create)
        self.ids: dict[int, UUID] = {key: create.id for key, create in self.new.items()}
        """Every run of the batch: created, or given a state."""
        # Every state of the batch with its run, the runs' initial states first.
        self.entries: list[tuple[int, UUID, StateCreate, int | None]] = [
            (key, create.id, create.state, None) for key, create in self.new.items() if create.state is not None
        ]
        entries, ids = self.entries, self.ids
        for record in records:
            run_id = record.run_id
            key = run_id.int
            entries.append((key, run_id, record.state, record.run_count))
            ids.setdefault(key, run_id)

    def not_created(self) -> dict[int, UUID]:
        """The runs the batch gives states to without creating them."""
        return {key: run_id for key, run_id in self.ids.items() if key not in self.new}

    def states_of(self, runs: Collection[int]) -> dict[int, UUID]:
        """The ids of the states given to `runs`."""
        return {state.id.int: state.id for key, _, state, _ in self.entries if key in runs}


class _Plan:
    """What a batch's states do: history rows to insert, each run's progress, stored runs to update."""

    def __init__(self, values: _Values, runs: _BatchRuns, existing: set[int], stored_states: set[int]) -> None:
        self.hex_ids = values.hex_ids
        self.progress: dict[int, RunProgress] = {}
        self.history_rows: list[tuple[Any, ...]] = []
        self.timestamps: dict[int, Any] = {}
        """Each state's converted timestamp, by the state id's integer: the run's columns reuse them."""
        progress, rows, timestamps = self.progress, self.history_rows, self.timestamps
        known = existing | runs.new.keys()
        seen = set(stored_states)
        # Written out for speed (this loop runs for every state of every batch): local names, and the
        # driver's forms of ids made from the integers at hand (hex text on SQLite).
        hex_ids, convert, json, now = values.hex_ids, values.timestamp, values.json, values.now
        with _gc_paused():
            for key, run_id, state, run_count in runs.entries:
                if key not in known:
                    continue  # a state for a run nobody created: skipped, not an error
                state_id = state.id
                state_key = state_id.int
                if state_key in seen:
                    continue  # recorded already (or twice in the batch)
                seen.add(state_key)
                run_progress = progress.get(key)
                if run_progress is None:
                    run_progress = progress[key] = RunProgress()
                run_progress.add(state, run_count)
                timestamp = timestamps[state_key] = convert(state.timestamp)
                data, details = state.data, state.details
                rows.append(
                    (
                        f"{state_key:032x}" if hex_ids else state_id,
                        f"{key:032x}" if hex_ids else run_id,
                        str(state.type),  # a StrEnum: str() gives the plain value, in C
                        state.name or DEFAULT_NAMES[state.type],
                        timestamp,
                        state.message,
                        None if data is None else json(data),
                        # Most states have no details: one C-level comparison instead of a model dump.
                        _NO_DETAILS_JSON if details.__dict__ == _NO_DETAILS else _details_json(json, details),
                        now,
                        now,
                    )
                )
            if not hex_ids:
                # Sorted by id, as every bulk write on PostgreSQL, so concurrent writers lock rows in one
                # order and cannot deadlock. (SQLite writers take turns: no need, and no gain measured.)
                rows.sort(key=_first_uuid_order)
            self.updates = [
                _update_values(values, self, runs.ids[key], progress[key])
                for key in sorted(progress)
                if key in existing
            ]

    def current(self, progress: RunProgress) -> tuple[Any, ...]:
        """The state columns of a run with `progress`, from `state_id` to `end_time` (driver's form)."""
        state = progress.newest
        if state is None:
            return (None, None, None, None, None, 0, None, None)
        timestamp = self.timestamps[state.id.int]
        first_running = progress.first_running_state
        return (
            f"{state.id.int:032x}" if self.hex_ids else state.id,
            str(state.type),
            state.name or DEFAULT_NAMES[state.type],
            timestamp,
            current_state_json(state),
            progress.run_count(),
            None if first_running is None else self.timestamps[first_running.id.int],
            None if progress.end_time is None else timestamp,
        )


def _details_json(json: Callable[[Any], str], details: StateDetails) -> str:
    """A history row's `details`: the details without their None fields."""
    return json(details.model_dump(mode="json", exclude_none=True))


async def _record_runs(
    conn: AsyncConnection,
    kind: str,
    creates: Sequence[RunCreate],
    records: Sequence[RunStateRecord],
    now: datetime,
    look_up_all: bool,
) -> None:
    table, history, run_column = RUN_TABLES[kind]
    values = _Values(driver_format(conn.dialect.name), now)
    with _gc_paused():
        runs = _BatchRuns(creates, records)
    if kind == "task_run" and values.hex_ids and runs.new and not look_up_all:
        plan = await _insert_task_runs_unseen(conn, values, history, runs)
    else:  # look up which runs are stored, insert the others
        existing = await _stored_ids(conn, values.fmt, table, runs.ids)
        for key in existing:
            runs.new.pop(key, None)
        plan = await _plan(conn, values, history, runs, existing)
        # New runs are inserted already in their newest state: no UPDATE for them.
        if kind == "flow_run":
            await _insert_flow_runs(conn, runs, plan.progress)
        else:
            await _bulk_insert(conn, task_runs, _TASK_RUN_COLUMNS).execute(conn, _task_run_rows(values, runs, plan))
    await _bulk_insert(conn, history, _history_columns(run_column)).execute(conn, plan.history_rows)
    if plan.updates:
        statement = _update_statement(conn.dialect, table)
        await conn.exec_driver_sql(statement.sql, [statement.row(update) for update in plan.updates])


async def _plan(
    conn: AsyncConnection, values: _Values, history: sa.Table, runs: _BatchRuns, existing: set[int]
) -> _Plan:
    # Only states of runs stored before this batch can be stored already (the batch is being re-sent).
    stored_states = await _stored_ids(conn, values.fmt, history, runs.states_of(existing)) if existing else set()
    return _Plan(values, runs, existing, stored_states)


async def _insert_task_runs_unseen(
    conn: AsyncConnection, values: _Values, history: sa.Table, runs: _BatchRuns
) -> _Plan:
    """On SQLite, insert the task runs the batch creates without first looking up whether they are stored.

    A batch creates runs that are new, unless it is sent again (a journal replayed, a retry after a lost
    answer): the lookup of the runs it only gives states to also asks for one run it creates, and if that
    one is stored, every run is looked up as usual. Otherwise the runs are inserted as new, and the
    insert's row count confirms it; if it does not (some, not all, were stored: a rare mix of batches),
    `_StoredAlready` has the whole batch rolled back and written again the usual way. That spares a
    lookup of every run of every batch.

    (The row count rather than RETURNING: no rows to fetch back, and no savepoint needed.)
    """
    probe = next(iter(runs.new))
    existing = await _stored_ids(conn, values.fmt, task_runs, {**runs.not_created(), probe: runs.ids[probe]})
    if probe in existing:
        existing = await _stored_ids(conn, values.fmt, task_runs, runs.ids)
        for key in existing:
            runs.new.pop(key, None)
    plan = await _plan(conn, values, history, runs, existing)
    rows = _task_run_rows(values, runs, plan)
    if await _bulk_insert(conn, task_runs, _TASK_RUN_COLUMNS).execute(conn, rows) != len(rows):
        raise _StoredAlready
    return plan


async def _insert_flow_runs(conn: AsyncConnection, runs: _BatchRuns, progress: dict[int, RunProgress]) -> None:
    creates = [runs.new[key] for key in sorted(runs.new)]
    flow_creates = [c for c in creates if isinstance(c, FlowRunCreate)]
    if flow_creates:
        flow_ids = await ensure_flow_ids(conn, {c.flow_name for c in flow_creates})
        by_id = {runs.ids[key]: run_progress for key, run_progress in progress.items()}
        await insert_flow_runs(conn, flow_creates, flow_ids, by_id)


def _task_run_rows(values: _Values, runs: _BatchRuns, plan: _Plan) -> list[tuple[Any, ...]]:
    """The rows of the new task runs (in `_TASK_RUN_COLUMNS` order, sorted by id), each in the newest
    state the batch gives it."""
    uuid, json, hex_ids, now = values.uuid, values.json, values.hex_ids, values.now
    progress, new, current = plan.progress, runs.new, plan.current
    no_state = (None, None, None, None, None, 0, None, None)
    rows: list[tuple[Any, ...]] = []
    with _gc_paused():
        for key in sorted(new):
            create = new[key]
            assert isinstance(create, TaskRunCreate)
            run_progress = progress.get(key)
            tags = create.tags
            rows.append(
                (
                    f"{key:032x}" if hex_ids else create.id,
                    create.name,
                    uuid(create.flow_run_id),
                    create.task_key,
                    create.dynamic_key,
                    create.cache_key,
                    json(tags) if tags else "[]",
                    uuid(create.child_flow_run_id),
                    *(no_state if run_progress is None else current(run_progress)),
                    now,
                    now,
                )
            )
    return rows


def _update_values(values: _Values, plan: _Plan, run_id: UUID, progress: RunProgress) -> dict[str, Any]:
    """The parameters of `_update_statement` for one run, in the driver's form."""
    assert progress.newest is not None  # a progress exists because a state was added
    state_id, state_type, state_name, timestamp, state, _, first_running, end_time = plan.current(progress)
    return {
        "b_id": values.uuid(run_id),
        "b_state_id": state_id,
        "b_state_type": state_type,
        "b_state_name": state_name,
        "b_state_timestamp": timestamp,
        "b_state": state,
        "b_end_time": end_time,
        "b_first_running": first_running,
        "b_running_without_count": progress.running_without_count,
        "b_run_count_floor": progress.run_count_floor,
        "updated": values.now,
    }


async def _stored_ids(conn: AsyncConnection, fmt: DriverFormat, table: sa.Table, ids: Mapping[int, UUID]) -> set[int]:
    """Which of `ids` (by their integers) are the ids of rows of `table`."""
    if not ids:
        return set()
    # Asked and answered in the driver's form (hex text on SQLite), mapped back without parsing UUIDs.
    by_key = {fmt.uuid(run_id): key for key, run_id in ids.items()}
    name = conn.dialect.identifier_preparer.format_table(table)
    found: set[int] = set()
    if fmt.dialect_name == "postgresql":
        result = await conn.exec_driver_sql(f"SELECT id FROM {name} WHERE id = ANY($1::uuid[])", (list(by_key),))
        found.update(by_key[key] for key in result.scalars())
        return found
    for chunk in chunks(list(by_key), IN_CHUNK):
        placeholders = ", ".join("?" * len(chunk))
        result = await conn.exec_driver_sql(f"SELECT id FROM {name} WHERE id IN ({placeholders})", tuple(chunk))
        found.update(by_key[key] for key in result.scalars())
    return found


class _DriverStatement:
    """A Core statement compiled once for a dialect, executed through the driver with positional rows."""

    def __init__(
        self, statement: sa.Insert | sa.Update, dialect: Dialect, column_keys: Sequence[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        if compiled.positiontup is None:
            raise NotImplementedError(f"the {dialect.name} driver does not take positional parameters")
        self.sql = compiled.string
        self.params = tuple(compiled.positiontup)
        """The parameter names in the order the driver takes them (a name used twice may repeat)."""

    def row(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's row for named values."""
        return tuple(values[name] for name in self.params)


class _BulkInsert:
    """INSERT … ON CONFLICT DO NOTHING of many rows, each giving `columns` in order, through the driver
    (`executemany`: sqlite3 steps a prepared statement per row; asyncpg pipelines the rows)."""

    def __init__(self, dialect: Dialect, table: sa.Table, columns: tuple[str, ...]) -> None:
        statement = _DriverStatement(insert_ignore(dialect.name, table), dialect, columns)
        # Core fills columns with a Python-side default itself, as extra parameters; the driver does not.
        if statement.params != columns:
            raise AssertionError(
                f"bulk insert into {table.name}: the driver would take {statement.params}, rows give {columns}"
                " (a column with a Python-side default must be among the columns)"
            )
        self.sql = statement.sql
        self._counts = dialect.name == "sqlite"

    async def execute(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> int | None:
        """Insert `rows`; returns how many were inserted (not skipped) where the driver tells: SQLite."""
        if not rows:
            return 0
        result = await conn.exec_driver_sql(self.sql, rows)
        # sqlite3 counts the rows an executemany changed; asyncpg's executemany reports nothing.
        return result.rowcount if self._counts else None


_inserts: dict[tuple[str, str, tuple[str, ...]], _BulkInsert] = {}
_updates: dict[tuple[str, str], _DriverStatement] = {}
"""Driver statements by dialect name and table (and columns): compiled once per process, as SQLAlchemy's
compiled cache would, but without its per-execution bookkeeping."""


def _bulk_insert(conn: AsyncConnection, table: sa.Table, columns: tuple[str, ...]) -> _BulkInsert:
    key = (conn.dialect.name, table.name, columns)
    statement = _inserts.get(key)
    if statement is None:
        statement = _inserts[key] = _BulkInsert(conn.dialect, table, columns)
    return statement


def _update_statement(dialect: Dialect, table: sa.Table) -> _DriverStatement:
    key = (dialect.name, table.name)
    statement = _updates.get(key)
    if statement is None:
        statement = _updates[key] = _DriverStatement(_catch_up_statement(table), dialect)
    return statement


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
