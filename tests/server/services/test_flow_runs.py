"""Flow runs: create (idempotently), read, state history, delete."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from headwater.core.states import StateType
from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas.actions import LogCreate, RecordBatch
from headwater.schemas.filters import LogFilter, TaskRunFilter
from headwater.schemas.states import StateDetails
from headwater.server.services import flow_runs, flows, logs, records, task_runs
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory


async def test_create_flow_run_creates_its_flow_and_reads_back(db: Database, make: Factory) -> None:
    create = make.flow_run("etl", make.state(StateType.PENDING, 5), parameters={"x": 1}, tags=["a"])
    created = await flow_runs.create_flow_run(db, create)
    flow = await flows.read_flow_by_name(db, "etl")
    assert created.id == create.id and created.flow_id == flow.id and created.flow_name == "etl"
    assert created.parameters == {"x": 1} and created.tags == ["a"]
    assert create.state is not None and created.state is not None
    assert created.state.id == create.state.id
    assert created.state.name == "Pending" and created.state_type is StateType.PENDING
    assert created.expected_start_time == make.at(5)
    assert created.run_count == 0 and created.start_time is None and created.end_time is None
    assert await flow_runs.read_flow_run(db, create.id) == created


async def test_create_flow_run_running_starts_it(db: Database, make: Factory) -> None:
    created = await flow_runs.create_flow_run(db, make.flow_run(state=make.state(StateType.RUNNING, 3)))
    assert created.start_time == make.at(3) and created.run_count == 1


async def test_scheduled_flow_run_is_expected_at_its_scheduled_time(db: Database, make: Factory) -> None:
    details = StateDetails(scheduled_time=make.at(3600))
    created = await flow_runs.create_flow_run(
        db, make.flow_run(state=make.state(StateType.SCHEDULED, 0, details=details))
    )
    assert created.expected_start_time == make.at(3600)


async def test_create_flow_run_without_state(db: Database, make: Factory) -> None:
    created = await flow_runs.create_flow_run(db, make.flow_run())
    assert created.state is None and created.state_type is None
    assert created.expected_start_time is not None
    assert await flow_runs.read_flow_run_states(db, created.id) == []


async def test_create_flow_run_is_idempotent_on_id(db: Database, make: Factory) -> None:
    create = make.flow_run(state=make.state(StateType.PENDING))
    first = await flow_runs.create_flow_run(db, create)
    changed = create.model_copy(update={"name": "other", "state": make.state(StateType.RUNNING)})
    again = await flow_runs.create_flow_run(db, changed)
    assert again == first
    assert len(await flow_runs.read_flow_run_states(db, create.id)) == 1


@pytest.mark.parametrize("state_type", [StateType.COMPLETED, StateType.FAILED, StateType.CANCELLING])
async def test_create_flow_run_refuses_other_initial_states(db: Database, make: Factory, state_type: StateType) -> None:
    with pytest.raises(InvalidInput, match=f"cannot be created in state {state_type.value}"):
        await flow_runs.create_flow_run(db, make.flow_run(state=make.state(state_type)))


async def test_unknown_flow_run_is_not_found(db: Database) -> None:
    run_id = uuid.uuid4()
    with pytest.raises(ObjectNotFound, match=f"no flow run with id {run_id}"):
        await flow_runs.read_flow_run(db, run_id)
    with pytest.raises(ObjectNotFound, match=f"no flow run with id {run_id}"):
        await flow_runs.delete_flow_run(db, run_id)


async def test_subflow_run_names_its_parent_flow_run(db: Database, make: Factory) -> None:
    parent = await flow_runs.create_flow_run(db, make.flow_run("parent"))
    call = make.task_run(parent.id, make.state(StateType.RUNNING))
    await records.record_batch(db, RecordBatch(task_runs=[call]))
    child = await flow_runs.create_flow_run(db, make.flow_run("child", parent_task_run_id=call.id))
    assert child.parent_task_run_id == call.id and child.parent_flow_run_id == parent.id
    assert child.flow_name == "child"
    assert parent.parent_flow_run_id is None


async def test_delete_flow_run_deletes_its_states_task_runs_and_logs(db: Database, make: Factory) -> None:
    keep = await flow_runs.create_flow_run(db, make.flow_run(state=make.state(StateType.PENDING)))
    doomed = await flow_runs.create_flow_run(db, make.flow_run(state=make.state(StateType.PENDING)))
    batch = RecordBatch(
        task_runs=[make.task_run(run.id, make.state(StateType.COMPLETED)) for run in (keep, doomed)],
        logs=[
            LogCreate(name="l", level=20, message="m", timestamp=make.at(0), flow_run_id=run.id)
            for run in (keep, doomed)
        ],
    )
    await records.record_batch(db, batch)
    doomed_task_run = batch.task_runs[1].id

    await flow_runs.delete_flow_run(db, doomed.id)

    with pytest.raises(ObjectNotFound):
        await flow_runs.read_flow_run(db, doomed.id)
    assert await flow_runs.read_flow_run_states(db, doomed.id) == []
    assert await task_runs.read_task_run_states(db, doomed_task_run) == []
    assert [t.flow_run_id for t in await task_runs.read_task_runs(db, TaskRunFilter())] == [keep.id]
    assert [line.flow_run_id for line in await logs.read_logs(db, LogFilter())] == [keep.id]
    assert len(await flow_runs.read_flow_run_states(db, keep.id)) == 1
