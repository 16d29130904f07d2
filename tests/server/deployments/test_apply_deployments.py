"""Applying deployments: created, then updated in place; pools and queues created on demand; read by id,
by name, and listed; paused, resumed and deleted."""

from __future__ import annotations

import pytest
from deployment_support import ETL_SCHEMA, create, cron, deploy, every, run_of, start

from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas.deployments import CollisionStrategy, DeploymentFilter, DeploymentUpdate
from headwater.schemas.filters import FlowRunFilter
from headwater.schemas.work_pools import WorkPoolCreate
from headwater.server.services import deployments, flow_runs, scheduling, work_pools
from headwater.server.storage.database import Database


async def test_apply_creates_the_deployment_and_a_process_pool_with_a_default_queue(db: Database) -> None:
    applied = await deployments.apply_deployment(db, create(tags=["nightly"], schedules=[cron("0 3 * * *")]))
    assert applied.created and applied.work_pool_created
    deployment = applied.deployment
    assert (deployment.flow_name, deployment.name) == ("etl", "nightly")
    assert (deployment.work_pool_name, deployment.work_queue_name) == ("local", "default")
    assert deployment.parameter_openapi_schema == ETL_SCHEMA and deployment.tags == ["nightly"]
    assert [s.schedule.cron for s in deployment.schedules] == ["0 3 * * *"]
    assert deployment.created is not None and deployment.updated is not None
    pool = await work_pools.read_work_pool(db, "local")
    assert pool.type == "process" and pool.default_queue_id == deployment.work_queue_id
    assert await deployments.read_deployment(db, deployment.id) == deployment


async def test_reapplying_updates_in_place_and_replaces_the_schedules(db: Database) -> None:
    first = await deploy(db, schedules=[cron("0 3 * * *"), every(60)], description="v1")
    applied = await deployments.apply_deployment(
        db, create(schedules=[every(3600)], description="v2", version="2", concurrency_limit=2)
    )
    assert not applied.created and not applied.work_pool_created
    second = applied.deployment
    assert second.id == first.id and second.created == first.created
    assert (second.description, second.version, second.concurrency_limit) == ("v2", "2", 2)
    assert [s.schedule.interval for s in second.schedules] == [3600]
    assert len(await deployments.read_deployments(db, DeploymentFilter())) == 1


async def test_changing_the_schedules_drops_runs_made_from_the_old_ones(db: Database) -> None:
    deployment = await deploy(db, schedules=[every(60)])
    assert await scheduling.schedule_deployments(db) >= 1
    manual = await run_of(db, deployment)
    await deploy(db, schedules=[every(60)])  # unchanged: the scheduled runs stay
    assert await flow_runs.count_flow_runs(db, FlowRunFilter(deployment_id=[deployment.id])) > 1
    await deploy(db, schedules=[every(120)])
    left = await flow_runs.read_flow_runs(db, FlowRunFilter(deployment_id=[deployment.id]))
    assert [run.id for run in left] == [manual.id]


async def test_a_named_queue_is_created_in_an_existing_pool_after_its_other_queues(db: Database) -> None:
    await work_pools.create_work_pool(db, WorkPoolCreate(name="local", type="docker"))
    applied = await deployments.apply_deployment(db, create(work_queue_name="high-mem"))
    assert not applied.work_pool_created
    assert (applied.deployment.work_pool_name, applied.deployment.work_queue_name) == ("local", "high-mem")
    queues = await work_pools.read_work_queues(db, "local")
    assert [(q.name, q.priority) for q in queues] == [("default", 1), ("high-mem", 2)]
    assert (await work_pools.read_work_pool(db, "local")).type == "docker"


async def test_a_deployment_may_have_no_pool_but_not_a_queue_without_one(db: Database) -> None:
    deployment = await deploy(db, work_pool_name=None)
    assert deployment.work_pool_name is None and deployment.work_queue_id is None
    with pytest.raises(InvalidInput, match="names work queue 'q' but no work pool"):
        await deploy(db, work_pool_name=None, work_queue_name="q")


async def test_invalid_schedules_and_default_parameters_are_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match=r"schedule 2: invalid cron expression 'every day'"):
        await deploy(db, schedules=[every(60), cron("every day")])
    with pytest.raises(InvalidInput, match="schedule 1: unknown time zone 'Mars/Olympus'"):
        await deploy(db, schedules=[cron("0 3 * * *", timezone="Mars/Olympus")])
    with pytest.raises(InvalidInput, match="parameter 'rows' must be an integer; got 'ten'"):
        await deploy(db, parameters={"rows": "ten"})
    # Defaults may leave a required parameter to each run.
    assert (await deploy(db, parameters={})).parameters == {}


async def test_read_by_name_says_what_is_missing(db: Database) -> None:
    deployment = await deploy(db)
    await deploy(db, name="hourly")
    assert (await deployments.read_deployment_by_name(db, "etl/nightly")).id == deployment.id
    with pytest.raises(
        ObjectNotFound, match=r"No deployment named 'etl/weekly'. Deployments of flow 'etl': hourly, nightly"
    ):
        await deployments.read_deployment_by_name(db, "etl/weekly")
    with pytest.raises(ObjectNotFound, match="No flow named 'elt'"):
        await deployments.read_deployment_by_name(db, "elt/nightly")
    with pytest.raises(InvalidInput, match="must be 'flow-name/deployment-name'"):
        await deployments.read_deployment_by_name(db, "nightly")
    with pytest.raises(ObjectNotFound, match="No deployment with id"):
        await deployments.read_deployment(db, deployment.flow_id)


async def test_filter_by_flow_name_pool_and_paused(db: Database) -> None:
    await deploy(db, "b")
    await deploy(db, "a", paused=True)
    await deploy(db, "c", flow_name="report", work_pool_name="other")

    async def names(**kwargs: object) -> list[str]:
        found = await deployments.read_deployments(db, DeploymentFilter.model_validate(kwargs))
        return [f"{d.flow_name}/{d.name}" for d in found]

    assert await names() == ["etl/a", "etl/b", "report/c"]
    assert await names(flow_name=["report"]) == ["report/c"]
    assert await names(work_pool_name=["local"]) == ["etl/a", "etl/b"]
    assert await names(paused=True) == ["etl/a"]
    assert await names(name=["b", "c"], limit=1, offset=1) == ["report/c"]


async def test_update_changes_only_the_fields_given(db: Database) -> None:
    deployment = await deploy(db, description="first", concurrency_limit=3)
    updated = await deployments.update_deployment(db, deployment.id, DeploymentUpdate(description="second"))
    assert (updated.description, updated.concurrency_limit, updated.paused) == ("second", 3, False)
    cleared = await deployments.update_deployment(db, deployment.id, DeploymentUpdate(concurrency_limit=None))
    assert (cleared.description, cleared.concurrency_limit) == ("second", None)
    assert cleared.collision_strategy is CollisionStrategy.ENQUEUE
    with pytest.raises(ObjectNotFound):
        await deployments.update_deployment(db, deployment.flow_id, DeploymentUpdate(paused=True))


async def test_pausing_deletes_unstarted_auto_scheduled_runs_only(db: Database) -> None:
    deployment = await deploy(db, schedules=[every(60)])
    await scheduling.schedule_deployments(db)
    manual = await run_of(db, deployment)
    paused = await deployments.update_deployment(db, deployment.id, DeploymentUpdate(paused=True))
    assert paused.paused
    left = await flow_runs.read_flow_runs(db, FlowRunFilter(deployment_id=[deployment.id]))
    assert [run.id for run in left] == [manual.id]
    assert await scheduling.schedule_deployments(db) == 0
    resumed = await deployments.update_deployment(db, deployment.id, DeploymentUpdate(paused=False))
    assert not resumed.paused
    assert await scheduling.schedule_deployments(db) >= 1


async def test_delete_removes_the_deployment_and_its_unstarted_runs(db: Database) -> None:
    deployment = await deploy(db)
    waiting = await run_of(db, deployment)
    started = await run_of(db, deployment)
    await start(db, started.id)
    await deployments.delete_deployment(db, deployment.id)
    with pytest.raises(ObjectNotFound):
        await deployments.read_deployment(db, deployment.id)
    with pytest.raises(ObjectNotFound):
        await flow_runs.read_flow_run(db, waiting.id)
    kept = await flow_runs.read_flow_run(db, started.id)
    assert kept.deployment_id == deployment.id and kept.deployment_name is None
    with pytest.raises(ObjectNotFound):
        await deployments.delete_deployment(db, deployment.id)
