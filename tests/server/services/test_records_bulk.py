"""The hot path in bulk: tens of thousands of task runs, in batches of 2,000 items."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from headwater.core.states import StateType
from headwater.schemas.actions import RecordBatch
from headwater.schemas.filters import TaskRunFilter
from headwater.server.services import flow_runs, records, task_runs
from headwater.server.storage.database import Database
from headwater.server.storage.tables import task_run_states

if TYPE_CHECKING:
    from conftest import Factory

S = StateType

pytestmark = pytest.mark.slow


async def test_ten_thousand_task_runs_in_batches_of_two_thousand(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run]))
    # As the SDK sends them: a batch creates task runs (PENDING) and carries the states of runs created
    # in the batch before, so most batches both insert runs and bring stored runs up to date.
    created = []
    elapsed = 0.0
    previous: list[tuple[uuid.UUID, float]] = []
    for b in range(6):
        batch = RecordBatch()
        for i in range(2000 if b < 5 else 0):
            n = b * 2000 + i
            task_run = make.task_run(flow_run.id, make.state(S.PENDING, n / 1000), name=f"t{n:05d}")
            batch.task_runs.append(task_run)
            created.append(task_run.id)
        for run_id, at in previous:
            batch.task_run_states.append(make.record(run_id, make.state(S.RUNNING, at + 0.0002), run_count=1))
            batch.task_run_states.append(make.record(run_id, make.state(S.COMPLETED, at + 0.0004), run_count=1))
        previous = [(t.id, (b * 2000 + i) / 1000) for i, t in enumerate(batch.task_runs)]
        started = time.perf_counter()
        await records.record_batch(db, batch)
        elapsed += time.perf_counter() - started
    print(f"\n[{db.dialect_name}] 10,000 task runs, 30,000 states recorded in {elapsed:.2f}s")

    started = time.perf_counter()
    listed = await task_runs.read_task_runs(db, TaskRunFilter(flow_run_id=[flow_run.id], limit=10_000))
    print(f"[{db.dialect_name}] read back in {time.perf_counter() - started:.2f}s")
    assert [t.id for t in listed] == created  # oldest first: the order they started in
    assert all(t.state_type is S.COMPLETED and t.run_count == 1 and t.end_time is not None for t in listed)
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(task_run_states))).scalar_one() == 30_000
    assert (await flow_runs.read_flow_run(db, flow_run.id)).state_type is S.RUNNING
