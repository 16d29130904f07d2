"""Work pools, their queues and their workers: create, read, update, delete; a pool's status."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from deployment_support import deploy

from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.work_pools import (
    WorkerHeartbeat,
    WorkerStatus,
    WorkPoolCreate,
    WorkPoolStatus,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from headwater.server.services import deployments, work_pools, workers
from headwater.server.storage.database import Database
from headwater.server.storage.tables import workers as workers_table


async def test_a_pool_is_created_with_its_default_queue(db: Database) -> None:
    pool = await work_pools.create_work_pool(db, WorkPoolCreate(name="gpu", type="docker", concurrency_limit=4))
    assert (pool.name, pool.type, pool.concurrency_limit, pool.paused) == ("gpu", "docker", 4, False)
    assert pool.status is WorkPoolStatus.NOT_READY
    queues = await work_pools.read_work_queues(db, "gpu")
    assert [(q.name, q.priority, q.work_pool_name, q.id) for q in queues] == [
        ("default", 1, "gpu", pool.default_queue_id)
    ]
    assert await work_pools.read_work_pool(db, "gpu") == pool
    with pytest.raises(InvalidInput, match="A work pool named 'gpu' exists already"):
        await work_pools.create_work_pool(db, WorkPoolCreate(name="gpu"))


async def test_pools_are_listed_by_name_and_unknown_ones_named(db: Database) -> None:
    for name in ("b", "a"):
        await work_pools.create_work_pool(db, WorkPoolCreate(name=name))
    assert [p.name for p in await work_pools.read_work_pools(db)] == ["a", "b"]
    with pytest.raises(ObjectNotFound, match=r"No work pool named 'c'. Work pools: a, b."):
        await work_pools.read_work_pool(db, "c")


async def test_update_pauses_resumes_and_clears_a_limit(db: Database) -> None:
    await work_pools.create_work_pool(db, WorkPoolCreate(name="p", concurrency_limit=2, description="d"))
    paused = await work_pools.update_work_pool(db, "p", WorkPoolUpdate(paused=True))
    assert (paused.paused, paused.status, paused.concurrency_limit, paused.description) == (
        True,
        WorkPoolStatus.PAUSED,
        2,
        "d",
    )
    resumed = await work_pools.update_work_pool(db, "p", WorkPoolUpdate(paused=False, concurrency_limit=None))
    assert (resumed.paused, resumed.concurrency_limit, resumed.description) == (False, None, "d")


async def test_queues_are_created_listed_by_priority_and_updated(db: Database) -> None:
    await work_pools.create_work_pool(db, WorkPoolCreate(name="p"))
    await work_pools.create_work_queue(db, "p", WorkQueueCreate(name="low", priority=10))
    high = await work_pools.create_work_queue(db, "p", WorkQueueCreate(name="high", priority=1, concurrency_limit=3))
    assert (high.name, high.priority, high.concurrency_limit, high.work_pool_name) == ("high", 1, 3, "p")
    assert [q.name for q in await work_pools.read_work_queues(db, "p")] == ["default", "high", "low"]
    with pytest.raises(InvalidInput, match="Work pool 'p' has a queue named 'low' already"):
        await work_pools.create_work_queue(db, "p", WorkQueueCreate(name="low"))
    updated = await work_pools.update_work_queue(db, "p", "low", WorkQueueUpdate(priority=0 + 1, paused=True))
    assert (updated.priority, updated.paused, updated.concurrency_limit) == (1, True, None)
    with pytest.raises(
        ObjectNotFound, match=r"No work queue named 'mid' in work pool 'p'. Its queues: default, high, low"
    ):
        await work_pools.update_work_queue(db, "p", "mid", WorkQueueUpdate(paused=True))
    with pytest.raises(ObjectNotFound, match="No work pool named 'q'"):
        await work_pools.create_work_queue(db, "q", WorkQueueCreate(name="x"))


async def test_heartbeats_make_a_pool_ready_until_they_stop(db: Database) -> None:
    await work_pools.create_work_pool(db, WorkPoolCreate(name="p"))
    await workers.worker_heartbeat(db, "p", WorkerHeartbeat(name="w1", heartbeat_interval_seconds=5))
    await workers.worker_heartbeat(db, "p", WorkerHeartbeat(name="w1"))  # the interval is kept
    await workers.worker_heartbeat(db, "p", WorkerHeartbeat(name="w2", heartbeat_interval_seconds=10))
    assert (await work_pools.read_work_pool(db, "p")).status is WorkPoolStatus.READY
    found = await workers.read_workers(db, "p")
    assert sorted((w.name, w.heartbeat_interval_seconds, w.status) for w in found) == [
        ("w1", 5, WorkerStatus.ONLINE),
        ("w2", 10, WorkerStatus.ONLINE),
    ]
    # w1 missed three heartbeats (15 s), w2 did not (30 s allowed).
    async with db.write() as conn:
        await conn.execute(sa.update(workers_table).values(last_heartbeat_time=now_utc() - timedelta(seconds=20)))
    statuses = {w.name: w.status for w in await workers.read_workers(db, "p")}
    assert statuses == {"w1": WorkerStatus.OFFLINE, "w2": WorkerStatus.ONLINE}
    assert (await work_pools.read_work_pool(db, "p")).status is WorkPoolStatus.READY
    async with db.write() as conn:
        await conn.execute(sa.update(workers_table).values(last_heartbeat_time=now_utc() - timedelta(seconds=31)))
    assert (await work_pools.read_work_pool(db, "p")).status is WorkPoolStatus.NOT_READY
    with pytest.raises(ObjectNotFound, match="No work pool named 'q'"):
        await workers.worker_heartbeat(db, "q", WorkerHeartbeat(name="w1"))


async def test_deleting_a_pool_deletes_its_queues_and_workers_and_unlinks_deployments(db: Database) -> None:
    deployment = await deploy(db)
    await workers.worker_heartbeat(db, "local", WorkerHeartbeat(name="w"))
    await work_pools.delete_work_pool(db, "local")
    with pytest.raises(ObjectNotFound):
        await work_pools.read_work_pool(db, "local")
    after = await deployments.read_deployment(db, deployment.id)
    assert (after.work_pool_name, after.work_queue_name, after.work_queue_id) == (None, None, None)
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(workers_table))).scalar_one() == 0
    with pytest.raises(ObjectNotFound):
        await work_pools.delete_work_pool(db, "local")
