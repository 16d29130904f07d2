"""Cancelling a flow run reaches its children: subflows and the deployment runs it started, recursively."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from deployment_support import deploy, propose, run_of, start

from headwater.core.states import StateType
from headwater.schemas.actions import RecordBatch
from headwater.schemas.objects import FlowRun
from headwater.server.services import flow_runs, records
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


async def running_flow(db: Database, make: Factory, parent: FlowRun | None = None) -> tuple[FlowRun, UUID]:
    """A RUNNING flow run (a subflow of `parent` when given) and a task run of it, recorded as the SDK does."""
    link = make.task_run(parent.id, make.state(S.RUNNING)) if parent is not None else None
    create = make.flow_run(state=make.state(S.RUNNING), parent_task_run_id=link.id if link else None)
    task_run = make.task_run(create.id, make.state(S.RUNNING))
    await records.record_batch(
        db, RecordBatch(flow_runs=[create], task_runs=[t for t in (link, task_run) if t is not None])
    )
    return await flow_runs.read_flow_run(db, create.id), task_run.id


async def state_of(db: Database, run_id: UUID) -> tuple[StateType | None, str | None]:
    run = await flow_runs.read_flow_run(db, run_id)
    return run.state_type, run.state.message if run.state else None


async def test_cancelling_a_parent_cancels_unstarted_children_and_stops_started_ones(
    db: Database, make: Factory
) -> None:
    parent, task_run_id = await running_flow(db, make)
    deployment = await deploy(db)
    scheduled = await run_of(db, deployment, parent_task_run_id=task_run_id)
    started = await run_of(db, deployment, parent_task_run_id=task_run_id)
    await start(db, started.id)
    finished = await run_of(db, deployment, parent_task_run_id=task_run_id)
    await start(db, finished.id)
    await propose(db, finished.id, S.COMPLETED)
    subflow, _ = await running_flow(db, make, parent)
    unrelated = await run_of(db, deployment)

    result = await propose(db, parent.id, S.CANCELLING)
    assert result.status.value == "ACCEPT"

    assert await state_of(db, scheduled.id) == (S.CANCELLED, f"Its parent flow run {parent.id} is cancelling.")
    assert (await state_of(db, started.id))[0] is S.CANCELLING
    assert (await state_of(db, subflow.id))[0] is S.CANCELLING
    assert (await state_of(db, finished.id))[0] is S.COMPLETED
    assert (await state_of(db, unrelated.id))[0] is S.SCHEDULED


async def test_cancellation_reaches_grandchildren(db: Database, make: Factory) -> None:
    parent, _ = await running_flow(db, make)
    child, child_task_run_id = await running_flow(db, make, parent)
    grandchild = await run_of(db, await deploy(db), parent_task_run_id=child_task_run_id)

    await propose(db, parent.id, S.CANCELLED)

    assert (await state_of(db, child.id))[0] is S.CANCELLING
    assert await state_of(db, grandchild.id) == (S.CANCELLED, f"Its parent flow run {child.id} is cancelling.")


async def test_a_child_cancelled_later_is_left_as_it_is(db: Database, make: Factory) -> None:
    parent, task_run_id = await running_flow(db, make)
    child = await run_of(db, await deploy(db), parent_task_run_id=task_run_id)
    await propose(db, parent.id, S.CANCELLING)
    assert (await state_of(db, child.id))[0] is S.CANCELLED
    history_before = len(await flow_runs.read_flow_run_states(db, child.id))
    await propose(db, parent.id, S.CANCELLED)  # the parent's process confirms: the child is not touched again
    assert len(await flow_runs.read_flow_run_states(db, child.id)) == history_before
