"""Reading task runs: order, filters, pages."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas.actions import RecordBatch
from headwater.schemas.filters import TaskRunFilter
from headwater.server.services import records, task_runs
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


async def test_task_runs_are_listed_oldest_first(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    late = make.task_run(flow_run.id, make.state(S.RUNNING, 9), name="late")
    early = make.task_run(flow_run.id, make.state(S.RUNNING, 2), name="early")
    middle = make.task_run(flow_run.id, make.state(S.COMPLETED, 5), name="middle")  # never ran here
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[late, early]))
    await records.record_batch(
        db,
        RecordBatch(
            task_runs=[middle],
            task_run_states=[make.record(middle.id, make.state(S.RUNNING, 4))],
        ),
    )
    listed = await task_runs.read_task_runs(db, TaskRunFilter(flow_run_id=[flow_run.id]))
    assert [t.name for t in listed] == ["early", "middle", "late"]


async def test_task_runs_not_started_sort_by_creation(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    started = make.task_run(flow_run.id, make.state(S.RUNNING, -3600), name="started")
    pending = make.task_run(flow_run.id, make.state(S.PENDING, -7200), name="pending")
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[started, pending]))
    # `pending` has no start time: it sorts by `created` (now), after the run that started an hour ago.
    listed = await task_runs.read_task_runs(db, TaskRunFilter())
    assert [t.name for t in listed] == ["started", "pending"]


async def test_task_run_filters_and_pages(db: Database, make: Factory) -> None:
    one, two = make.flow_run(state=make.state(S.RUNNING)), make.flow_run(state=make.state(S.RUNNING))
    batch = RecordBatch(flow_runs=[one, two])
    for i in range(6):
        state = make.state(S.COMPLETED if i % 2 else S.FAILED, i)
        batch.task_runs.append(make.task_run((one, two)[i % 2].id, state, name=f"t{i}"))
    await records.record_batch(db, batch)

    async def names(**fields: object) -> list[str]:
        return [t.name for t in await task_runs.read_task_runs(db, TaskRunFilter.model_validate(fields))]

    # None of them started: they sort by creation (one batch, so all equal) and then by id.
    by_id = [t.name for t in sorted(batch.task_runs, key=lambda t: t.id)]
    assert await names() == by_id
    assert set(await names(flow_run_id=[one.id])) == {"t0", "t2", "t4"}
    assert set(await names(state_type=["COMPLETED"])) == {"t1", "t3", "t5"}
    assert set(await names(id=[batch.task_runs[0].id, batch.task_runs[5].id])) == {"t0", "t5"}
    assert await names(limit=4) + await names(limit=4, offset=4) == by_id


async def test_read_task_run_and_its_states(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING))
    task_run = make.task_run(flow_run.id, make.state(S.PENDING, 1), cache_key="k", tags=["x"])
    await records.record_batch(
        db,
        RecordBatch(
            flow_runs=[flow_run],
            task_runs=[task_run],
            task_run_states=[
                make.record(task_run.id, make.state(S.COMPLETED, 3, data={"storage_key": "abc"})),
                make.record(task_run.id, make.state(S.RUNNING, 2)),
            ],
        ),
    )
    stored = await task_runs.read_task_run(db, task_run.id)
    assert (stored.cache_key, stored.tags, stored.task_key) == ("k", ["x"], "add")
    assert stored.state is not None and stored.state.data == {"storage_key": "abc"}
    states = await task_runs.read_task_run_states(db, task_run.id)
    assert [(s.type, s.timestamp) for s in states] == [
        (S.PENDING, make.at(1)),
        (S.RUNNING, make.at(2)),
        (S.COMPLETED, make.at(3)),
    ]
    assert states[2].data == {"storage_key": "abc"} and states[2].name == "Completed"


async def test_unknown_task_run_is_not_found(db: Database) -> None:
    task_run_id = uuid.uuid4()
    with pytest.raises(ObjectNotFound, match=f"no task run with id {task_run_id}"):
        await task_runs.read_task_run(db, task_run_id)
    assert await task_runs.read_task_run_states(db, task_run_id) == []
