"""Record batches: idempotent, coalesced, never moving a run backwards."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import sqlalchemy as sa

from headwater.core.states import StateType
from headwater.schemas.actions import Heartbeat, LogCreate, RecordBatch
from headwater.schemas.filters import LogFilter, TaskRunFilter
from headwater.server.services import flow_runs, flows, logs, records, task_runs
from headwater.server.storage.database import Database
from headwater.server.storage.tables import flow_run_states, task_run_states
from headwater.server.storage.tables import flow_runs as flow_runs_table
from headwater.server.storage.tables import task_runs as task_runs_table

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


def _monoflow(make: Factory, tasks: int = 3) -> RecordBatch:
    """A flow run and its task runs, each through PENDING, RUNNING and COMPLETED."""
    flow_run = make.flow_run("etl", make.state(S.RUNNING, 0))
    batch = RecordBatch(flow_runs=[flow_run])
    for i in range(tasks):
        task_run = make.task_run(flow_run.id, make.state(S.PENDING, i + 1), name=f"add-{i}")
        batch.task_runs.append(task_run)
        batch.task_run_states.append(make.record(task_run.id, make.state(S.RUNNING, i + 1.5), run_count=1))
        batch.task_run_states.append(make.record(task_run.id, make.state(S.COMPLETED, i + 2), run_count=1))
    batch.flow_run_states.append(make.record(flow_run.id, make.state(S.COMPLETED, tasks + 5), run_count=1))
    batch.logs.append(LogCreate(name="l", level=20, message="hi", timestamp=make.at(1), flow_run_id=flow_run.id))
    batch.heartbeats.append(Heartbeat(flow_run_id=flow_run.id, timestamp=make.at(2)))
    return batch


async def _snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the run tables (without `updated`), to compare before and after."""
    out = {}
    async with db.read() as conn:
        for table in (flow_runs_table, task_runs_table, flow_run_states, task_run_states):
            columns = [c for c in table.c if c.name != "updated"]
            rows = await conn.execute(sa.select(*columns).order_by(table.c.id))
            out[table.name] = [tuple(row) for row in rows]
    return out


async def test_a_batch_creates_runs_already_in_their_newest_state(db: Database, make: Factory) -> None:
    batch = _monoflow(make)
    await records.record_batch(db, batch)
    flow_run = await flow_runs.read_flow_run(db, batch.flow_runs[0].id)
    assert flow_run.state_type is S.COMPLETED and flow_run.flow_name == "etl"
    assert (flow_run.start_time, flow_run.end_time, flow_run.run_count) == (make.at(0), make.at(8), 1)
    assert flow_run.heartbeat == make.at(2)
    assert [s.type for s in await flow_runs.read_flow_run_states(db, flow_run.id)] == [S.RUNNING, S.COMPLETED]
    listed = await task_runs.read_task_runs(db, TaskRunFilter(flow_run_id=[flow_run.id]))
    assert [t.name for t in listed] == ["add-0", "add-1", "add-2"]
    for i, task_run in enumerate(listed):
        assert task_run.state is not None and task_run.state.type is S.COMPLETED
        assert (task_run.start_time, task_run.end_time, task_run.run_count) == (
            make.at(i + 1.5),
            make.at(i + 2),
            1,
        )
        history = await task_runs.read_task_run_states(db, task_run.id)
        assert [s.type for s in history] == [S.PENDING, S.RUNNING, S.COMPLETED]
    assert [line.message for line in await logs.read_logs(db, LogFilter())] == ["hi"]


async def test_writing_the_same_batch_twice_changes_nothing(db: Database, make: Factory) -> None:
    batch = _monoflow(make)
    await records.record_batch(db, batch)
    before = await _snapshot(db)
    await records.record_batch(db, batch)
    assert await _snapshot(db) == before
    assert len(await logs.read_logs(db, LogFilter())) == 1


async def test_states_across_batches_bring_runs_up_to_date(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    task_run = make.task_run(flow_run.id, make.state(S.PENDING, 1))
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[task_run]))
    await records.record_batch(
        db, RecordBatch(task_run_states=[make.record(task_run.id, make.state(S.RUNNING, 2), run_count=1)])
    )
    running = await task_runs.read_task_run(db, task_run.id)
    assert (running.state_type, running.start_time, running.end_time, running.run_count) == (
        S.RUNNING,
        make.at(2),
        None,
        1,
    )
    await records.record_batch(
        db, RecordBatch(task_run_states=[make.record(task_run.id, make.state(S.COMPLETED, 3), run_count=1)])
    )
    done = await task_runs.read_task_run(db, task_run.id)
    assert (done.state_type, done.start_time, done.end_time, done.run_count) == (
        S.COMPLETED,
        make.at(2),
        make.at(3),
        1,
    )


async def test_a_late_older_state_does_not_move_a_run_back(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    task_run = make.task_run(flow_run.id, make.state(S.PENDING, 1))
    completed = make.record(task_run.id, make.state(S.COMPLETED, 10), run_count=1)
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[task_run], task_run_states=[completed]))
    late_running = make.record(task_run.id, make.state(S.RUNNING, 5), run_count=1)
    await records.record_batch(db, RecordBatch(task_run_states=[late_running]))
    after = await task_runs.read_task_run(db, task_run.id)
    assert after.state is not None and after.state.id == completed.state.id
    assert (after.state_type, after.end_time) == (S.COMPLETED, make.at(10))
    assert after.start_time == make.at(5)  # the late state still tells when the run started
    history = await task_runs.read_task_run_states(db, task_run.id)
    assert [s.type for s in history] == [S.PENDING, S.RUNNING, S.COMPLETED]


async def test_states_within_a_batch_are_ordered_by_timestamp(db: Database, make: Factory) -> None:
    flow_run = make.flow_run()
    batch = RecordBatch(
        flow_runs=[flow_run],
        flow_run_states=[
            make.record(flow_run.id, make.state(S.COMPLETED, 9), run_count=1),
            make.record(flow_run.id, make.state(S.RUNNING, 2), run_count=1),
            make.record(flow_run.id, make.state(S.PENDING, 1)),
        ],
    )
    await records.record_batch(db, batch)
    after = await flow_runs.read_flow_run(db, flow_run.id)
    assert (after.state_type, after.start_time, after.end_time) == (S.COMPLETED, make.at(2), make.at(9))
    assert after.expected_start_time == make.at(1)


async def test_run_count_counts_running_states_without_a_count(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    task_run = make.task_run(flow_run.id, make.state(S.RUNNING, 1))
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[task_run]))
    assert (await task_runs.read_task_run(db, task_run.id)).run_count == 1
    retry = [
        make.record(task_run.id, make.state(S.SCHEDULED, 2)),
        make.record(task_run.id, make.state(S.RUNNING, 3)),
    ]
    await records.record_batch(db, RecordBatch(task_run_states=retry))
    assert (await task_runs.read_task_run(db, task_run.id)).run_count == 2
    await records.record_batch(db, RecordBatch(task_run_states=retry))  # again: nothing new
    assert (await task_runs.read_task_run(db, task_run.id)).run_count == 2
    counted = make.record(task_run.id, make.state(S.RUNNING, 4), run_count=5)
    await records.record_batch(db, RecordBatch(task_run_states=[counted]))
    assert (await task_runs.read_task_run(db, task_run.id)).run_count == 5


async def test_states_for_unknown_runs_are_skipped(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    batch = RecordBatch(
        flow_runs=[flow_run],
        flow_run_states=[
            make.record(uuid.uuid4(), make.state(S.COMPLETED, 1)),
            make.record(flow_run.id, make.state(S.COMPLETED, 2)),
        ],
        task_run_states=[make.record(uuid.uuid4(), make.state(S.COMPLETED, 1))],
        heartbeats=[Heartbeat(flow_run_id=uuid.uuid4(), timestamp=make.at(1))],
    )
    await records.record_batch(db, batch)
    assert (await flow_runs.read_flow_run(db, flow_run.id)).state_type is S.COMPLETED
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(flow_run_states))).scalar_one() == 2
        assert (await conn.execute(sa.select(sa.func.count()).select_from(task_run_states))).scalar_one() == 0


async def test_records_do_not_re_orchestrate(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    done = [
        make.record(flow_run.id, make.state(S.COMPLETED, 1)),
        make.record(flow_run.id, make.state(S.FAILED, 2)),
    ]
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], flow_run_states=done))
    assert (await flow_runs.read_flow_run(db, flow_run.id)).state_type is S.FAILED


async def test_heartbeats_keep_the_latest(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    beats = [Heartbeat(flow_run_id=flow_run.id, timestamp=make.at(t)) for t in (5, 9, 7)]
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], heartbeats=beats))
    await records.record_batch(db, RecordBatch(heartbeats=[Heartbeat(flow_run_id=flow_run.id, timestamp=make.at(8))]))
    assert (await flow_runs.read_flow_run(db, flow_run.id)).heartbeat == make.at(9)


async def test_batches_create_flows_and_subflow_links(db: Database, make: Factory) -> None:
    parent = make.flow_run("parent", make.state(S.RUNNING, 0))
    call = make.task_run(parent.id, make.state(S.RUNNING, 1))
    child = make.flow_run("child", make.state(S.RUNNING, 1), parent_task_run_id=call.id)
    call.child_flow_run_id = child.id
    await records.record_batch(db, RecordBatch(flow_runs=[child, parent], task_runs=[call]))
    assert {f.name for f in await flows.read_flows(db)} == {"parent", "child"}
    stored_child = await flow_runs.read_flow_run(db, child.id)
    assert stored_child.parent_flow_run_id == parent.id
    assert (await task_runs.read_task_run(db, call.id)).child_flow_run_id == child.id


async def test_an_empty_batch_does_nothing(db: Database) -> None:
    await records.record_batch(db, RecordBatch())
    assert await flows.read_flows(db) == []


async def test_the_same_batch_written_twice_at_once_is_stored_once(db: Database, make: Factory) -> None:
    batch = _monoflow(make, tasks=50)
    await asyncio.gather(records.record_batch(db, batch), records.record_batch(db, batch))
    after_concurrent = await _snapshot(db)
    assert len(after_concurrent["task_runs"]) == 50 and len(after_concurrent["task_run_states"]) == 150
    await records.record_batch(db, batch)
    assert await _snapshot(db) == after_concurrent
