"""Runs of deployments: parameters merged and checked, their initial state, names, tags, links to a
parent, idempotency keys, and queues."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from deployment_support import deploy, run_of

from headwater.core.states import StateType
from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.filters import FlowRunFilter
from headwater.schemas.states import StateCreate
from headwater.server.services import flow_runs, work_pools
from headwater.server.storage.database import Database


async def test_a_run_is_scheduled_now_with_merged_parameters_and_tags(db: Database) -> None:
    deployment = await deploy(db, tags=["nightly", "etl"], parameters={"source": "s3", "rows": 5})
    before = now_utc()
    run = await run_of(db, deployment, parameters={"rows": 7}, tags=["adhoc", "etl"])
    assert run.parameters == {"source": "s3", "rows": 7}
    assert run.tags == ["nightly", "etl", "adhoc"]
    assert run.state is not None and (run.state_type, run.state_name) == (StateType.SCHEDULED, "Scheduled")
    assert run.state.details.scheduled_time is not None and run.state.details.scheduled_time >= before
    assert run.expected_start_time == run.state.details.scheduled_time
    assert (run.deployment_id, run.deployment_name) == (deployment.id, "nightly")
    assert (run.work_pool_name, run.work_queue_name, run.work_queue_id) == (
        "local",
        "default",
        deployment.work_queue_id,
    )
    assert run.flow_name == "etl" and run.flow_id == deployment.flow_id and not run.auto_scheduled
    assert run.name.count("-") >= 1  # a friendly generated name such as `brave-otter`
    assert [s.type for s in await flow_runs.read_flow_run_states(db, run.id)] == [StateType.SCHEDULED]


async def test_a_run_can_be_named_scheduled_later_and_linked_to_a_parent(db: Database) -> None:
    deployment = await deploy(db)
    later, parent_task_run_id = now_utc() + timedelta(hours=1), uuid.uuid4()
    run = await run_of(db, deployment, name="backfill", scheduled_time=later, parent_task_run_id=parent_task_run_id)
    assert (run.name, run.expected_start_time, run.parent_task_run_id) == ("backfill", later, parent_task_run_id)


async def test_a_run_can_start_in_another_initial_state(db: Database) -> None:
    deployment = await deploy(db)
    run = await run_of(db, deployment, state=StateCreate(type=StateType.PENDING, message="started by hand"))
    assert run.state_type is StateType.PENDING
    with pytest.raises(InvalidInput, match="cannot be created in state COMPLETED"):
        await run_of(db, deployment, state=StateCreate(type=StateType.COMPLETED))


async def test_the_same_idempotency_key_returns_the_first_run(db: Database) -> None:
    deployment = await deploy(db)
    other = await deploy(db, "hourly")
    first = await run_of(db, deployment, idempotency_key="order-42", parameters={"rows": 1})
    again = await run_of(db, deployment, idempotency_key="order-42", parameters={"rows": 2})
    elsewhere = await run_of(db, other, idempotency_key="order-42")
    assert again.id == first.id and again.parameters["rows"] == 1 and elsewhere.id != first.id
    assert first.idempotency_key == "order-42"
    # Concurrent requests with one key make one run too.
    runs = await asyncio.gather(*(run_of(db, deployment, idempotency_key="order-43") for _ in range(4)))
    assert len({run.id for run in runs}) == 1
    assert await flow_runs.count_flow_runs(db, FlowRunFilter(deployment_id=[deployment.id])) == 2


async def test_parameters_are_checked_against_the_schema_naming_each_problem(db: Database) -> None:
    deployment = await deploy(db, parameters={})
    with pytest.raises(InvalidInput) as error:
        await run_of(db, deployment, parameters={"rows": "many", "mode": "weekly", "colour": "red"})
    message = str(error.value)
    assert message.startswith("Invalid parameters for deployment etl/nightly: ")
    assert "parameter 'source' is required and was not given" in message
    assert "parameter 'rows' must be an integer; got 'many' (str)" in message
    assert "parameter 'mode' must be one of 'full', 'delta'; got 'weekly' (str)" in message
    assert "unknown parameter 'colour': the flow takes limit, mode, rows, source" in message
    with pytest.raises(InvalidInput, match=r"parameter 'limit' must be a number or null \(None\); got 'x'"):
        await run_of(db, deployment, parameters={"source": "s3", "limit": "x"})
    ok = await run_of(db, deployment, parameters={"source": "s3", "rows": 3, "limit": None})
    assert ok.parameters == {"source": "s3", "rows": 3, "limit": None}


async def test_parameters_are_not_checked_when_the_deployment_does_not_enforce_its_schema(db: Database) -> None:
    deployment = await deploy(db, enforce_parameter_schema=False)
    run = await run_of(db, deployment, parameters={"rows": "many", "colour": "red"})
    assert run.parameters == {"source": "s3", "rows": "many", "colour": "red"}


async def test_a_run_can_go_to_another_queue_created_on_demand(db: Database) -> None:
    deployment = await deploy(db)
    run = await run_of(db, deployment, work_queue_name="urgent")
    assert run.work_queue_name == "urgent" and run.work_queue_id != deployment.work_queue_id
    assert [q.name for q in await work_pools.read_work_queues(db, "local")] == ["default", "urgent"]
    no_pool = await deploy(db, "adhoc", work_pool_name=None)
    with pytest.raises(InvalidInput, match="has no work pool, so its runs cannot go to work queue 'urgent'"):
        await run_of(db, no_pool, work_queue_name="urgent")


async def test_filter_runs_by_deployment_and_work_pool(db: Database) -> None:
    nightly = await deploy(db)
    elsewhere = await deploy(db, "remote", work_pool_name="remote")
    a, b = await run_of(db, nightly), await run_of(db, elsewhere)

    async def ids(**kwargs: object) -> set[uuid.UUID]:
        return {run.id for run in await flow_runs.read_flow_runs(db, FlowRunFilter.model_validate(kwargs))}

    assert await ids(deployment_id=[nightly.id]) == {a.id}
    assert await ids(work_pool_name=["remote"]) == {b.id}
    assert await ids(work_pool_name=["local", "remote"]) == {a.id, b.id}


async def test_an_unknown_deployment_is_not_found(db: Database) -> None:
    with pytest.raises(ObjectNotFound, match="No deployment with id"):
        await run_of(db, uuid.uuid4())
