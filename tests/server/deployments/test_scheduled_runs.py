"""What workers are handed: due runs by queue priority then time, within every concurrency limit, none
of paused work; and the long-poll that hands a new run over at once."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from uuid import UUID

import pytest
from deployment_support import claim, deploy, propose, run_of, start

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import CollisionStrategy, DeploymentUpdate
from headwater.schemas.work_pools import (
    GetScheduledFlowRuns,
    WorkerStatus,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from headwater.server.services import deployments, work_pools, workers
from headwater.server.services.scheduled_runs import get_scheduled_flow_runs
from headwater.server.storage.database import Database


async def due(db: Database, pool: str = "local", **kwargs: object) -> list[UUID]:
    """The ids of the runs a worker polling `pool` is handed now."""
    responses = await get_scheduled_flow_runs(db, pool, GetScheduledFlowRuns.model_validate(kwargs))
    return [response.flow_run.id for response in responses]


async def test_due_runs_come_by_queue_priority_then_due_time(db: Database) -> None:
    deployment = await deploy(db)
    urgent = await deploy(db, "urgent", work_queue_name="urgent")
    await work_pools.update_work_queue(db, "local", "urgent", WorkQueueUpdate(priority=1))
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(priority=2))
    now = now_utc()
    late = await run_of(db, deployment, scheduled_time=now - timedelta(minutes=5))
    later = await run_of(db, deployment, scheduled_time=now - timedelta(minutes=1))
    first = await run_of(db, urgent, scheduled_time=now - timedelta(minutes=2))
    future = await run_of(db, deployment, scheduled_time=now + timedelta(hours=1))
    assert await due(db) == [first.id, late.id, later.id]
    assert await due(db, limit=2) == [first.id, late.id]
    assert await due(db, work_queue_names=["default"]) == [late.id, later.id]
    assert future.id in await due(db, scheduled_before=now + timedelta(hours=2))
    responses = await get_scheduled_flow_runs(db, "local", GetScheduledFlowRuns())
    pool = await work_pools.read_work_pool(db, "local")
    assert {(r.work_pool_id, r.work_queue_id) for r in responses} == {
        (pool.id, deployment.work_queue_id),
        (pool.id, urgent.work_queue_id),
    }
    assert responses[0].flow_run.work_queue_name == "urgent"


async def test_only_scheduled_runs_are_handed_out(db: Database) -> None:
    deployment = await deploy(db)
    waiting, claimed = await run_of(db, deployment), await run_of(db, deployment)
    assert (await claim(db, claimed.id)).status.value == "ACCEPT"
    assert await due(db) == [waiting.id]


async def test_paused_pools_queues_and_deployments_hand_out_nothing(db: Database) -> None:
    deployment = await deploy(db)
    run = await run_of(db, deployment)
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(paused=True))
    assert await due(db) == []
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(paused=False))
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(paused=True))
    assert await due(db) == []
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(paused=False))
    await deployments.update_deployment(db, deployment.id, DeploymentUpdate(paused=True))
    assert await due(db) == []
    await deployments.update_deployment(db, deployment.id, DeploymentUpdate(paused=False))
    assert await due(db) == [run.id]


async def test_pool_and_queue_concurrency_limits(db: Database) -> None:
    deployment = await deploy(db)
    other = await deploy(db, "other", work_queue_name="other")
    runs = [await run_of(db, deployment) for _ in range(3)]
    others = [await run_of(db, other) for _ in range(2)]
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(concurrency_limit=2))
    await start(db, runs[0].id)
    assert set(await due(db)) == {runs[1].id, others[0].id, others[1].id}  # one slot left in `default`
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(concurrency_limit=2))
    assert len(await due(db)) == 1  # one run active in the pool: one more
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(concurrency_limit=1))
    assert await due(db) == []
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(concurrency_limit=0))
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(concurrency_limit=None))
    assert set(await due(db)) == {others[0].id, others[1].id}


async def test_deployment_concurrency_limit_with_enqueue(db: Database) -> None:
    limited = await deploy(db, concurrency_limit=2)
    free = await deploy(db, "free")
    runs = [await run_of(db, limited) for _ in range(4)]
    unlimited = await run_of(db, free)
    assert set(await due(db)) == {runs[0].id, runs[1].id, unlimited.id}
    await start(db, runs[0].id)
    assert set(await due(db)) == {runs[1].id, unlimited.id}
    await start(db, runs[1].id)
    assert await due(db) == [unlimited.id]


async def test_cancel_new_deployments_have_their_runs_handed_out_to_be_cancelled(db: Database) -> None:
    deployment = await deploy(db, concurrency_limit=1, collision_strategy=CollisionStrategy.CANCEL_NEW)
    first, second = await run_of(db, deployment), await run_of(db, deployment)
    await start(db, first.id)
    assert await due(db) == [second.id]


async def test_a_poll_with_a_worker_name_is_a_heartbeat(db: Database) -> None:
    await deploy(db)
    await due(db, worker_name="w1")
    assert [(w.name, w.status) for w in await workers.read_workers(db, "local")] == [("w1", WorkerStatus.ONLINE)]
    with pytest.raises(ObjectNotFound, match="No work pool named 'remote'"):
        await due(db, "remote")


async def test_a_long_poll_returns_as_soon_as_a_run_is_created(db: Database) -> None:
    deployment = await deploy(db)
    started = time.monotonic()
    poll = asyncio.create_task(due(db, wait_seconds=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    run = await run_of(db, deployment)
    assert await asyncio.wait_for(poll, timeout=5) == [run.id]
    assert time.monotonic() - started < 5  # woken, not timed out (nor waiting for a re-query round)


async def test_a_long_poll_finds_runs_coming_due_and_gives_up_when_the_time_is_up(db: Database) -> None:
    deployment = await deploy(db)
    run = await run_of(db, deployment, scheduled_time=now_utc() + timedelta(seconds=0.6))
    assert await due(db) == []
    assert await due(db, wait_seconds=5) == [run.id]
    started = time.monotonic()
    await start(db, run.id)
    assert await due(db, wait_seconds=0.5) == []
    assert 0.4 < time.monotonic() - started < 3


async def test_a_long_poll_wakes_when_a_slot_frees_up(db: Database) -> None:
    deployment = await deploy(db)
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(concurrency_limit=1))
    first, second = await run_of(db, deployment), await run_of(db, deployment)
    await start(db, first.id)
    poll = asyncio.create_task(due(db, wait_seconds=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    await propose(db, first.id, StateType.COMPLETED)
    assert await asyncio.wait_for(poll, timeout=5) == [second.id]


async def test_queues_asked_for_by_name_that_do_not_exist_hand_out_nothing(db: Database) -> None:
    deployment = await deploy(db)
    await run_of(db, deployment)
    await work_pools.create_work_queue(db, "local", WorkQueueCreate(name="empty"))
    assert await due(db, work_queue_names=["empty", "missing"]) == []


async def test_a_long_poll_holds_no_database_connection_while_it_waits(db: Database) -> None:
    await deploy(db)
    pool = db.engine.pool
    poll = asyncio.create_task(due(db, wait_seconds=1.5))
    await asyncio.sleep(0.1)
    held = []
    for _ in range(20):
        held.append(pool.checkedout())  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
    assert await poll == []
    # It re-reads the store every quarter second, each time for a moment: almost every look finds none held.
    assert sum(1 for count in held if count) <= 3, held
