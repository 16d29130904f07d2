"""Work pools, their queues, their workers, and the long-poll workers ask for due runs with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from headwater.schemas.work_pools import (
    GetScheduledFlowRuns,
    Worker,
    WorkerFlowRunResponse,
    WorkerHeartbeat,
    WorkPool,
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueue,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from headwater.server.api.dependencies import get_db, unless_disconnected
from headwater.server.services import scheduled_runs, work_pools, workers
from headwater.server.storage.database import Database

router = APIRouter(prefix="/work_pools", tags=["work pools"])
Db = Annotated[Database, Depends(get_db)]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_work_pool(create: WorkPoolCreate, db: Db) -> WorkPool:
    """Create a work pool with its `default` queue (409 when the name is taken)."""
    return await work_pools.create_work_pool(db, create)


@router.post("/filter")
async def filter_work_pools(db: Db) -> list[WorkPool]:
    """Every work pool, by name, with its status."""
    return await work_pools.read_work_pools(db)


@router.get("/{name}")
async def read_work_pool(name: str, db: Db) -> WorkPool:
    """One work pool, with its status (READY when a worker polled it recently)."""
    return await work_pools.read_work_pool(db, name)


@router.patch("/{name}")
async def update_work_pool(name: str, update: WorkPoolUpdate, db: Db) -> WorkPool:
    """Change some fields of a work pool (pause, resume, concurrency limit, description)."""
    return await work_pools.update_work_pool(db, name, update)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_work_pool(name: str, db: Db) -> None:
    """Delete a work pool with its queues and workers."""
    await work_pools.delete_work_pool(db, name)


@router.post("/{name}/queues/", status_code=status.HTTP_201_CREATED)
async def create_work_queue(name: str, create: WorkQueueCreate, db: Db) -> WorkQueue:
    """Create a queue in a pool (409 when the pool has one with this name)."""
    return await work_pools.create_work_queue(db, name, create)


@router.get("/{name}/queues")
async def read_work_queues(name: str, db: Db) -> list[WorkQueue]:
    """A pool's queues, highest priority first."""
    return await work_pools.read_work_queues(db, name)


@router.post("/{name}/queues/filter")
async def filter_work_queues(name: str, db: Db) -> list[WorkQueue]:
    """A pool's queues, highest priority first (Prefect's path for the same list)."""
    return await work_pools.read_work_queues(db, name)


@router.get("/{name}/queues/{queue_name}")
async def read_work_queue(name: str, queue_name: str, db: Db) -> WorkQueue:
    """One queue of a pool."""
    return await work_pools.read_work_queue(db, name, queue_name)


@router.patch("/{name}/queues/{queue_name}")
async def update_work_queue(name: str, queue_name: str, update: WorkQueueUpdate, db: Db) -> WorkQueue:
    """Change some fields of a queue (priority, concurrency limit, pause)."""
    return await work_pools.update_work_queue(db, name, queue_name, update)


@router.post("/{name}/workers/heartbeat", status_code=status.HTTP_204_NO_CONTENT)
async def worker_heartbeat(name: str, heartbeat: WorkerHeartbeat, db: Db) -> None:
    """A worker polling the pool is alive."""
    await workers.worker_heartbeat(db, name, heartbeat)


@router.post("/{name}/workers/filter")
async def filter_workers(name: str, db: Db) -> list[Worker]:
    """The workers that have polled the pool, each ONLINE or OFFLINE."""
    return await workers.read_workers(db, name)


@router.post("/{name}/get_scheduled_flow_runs")
async def get_scheduled_flow_runs(
    name: str, db: Db, http_request: Request, request: GetScheduledFlowRuns | None = None
) -> list[WorkerFlowRunResponse]:
    """Due runs for a worker, within every concurrency limit, highest-priority queue first. With
    `wait_seconds`, the request is held (long-poll, no database connection held) until a run is due
    (or the worker goes away)."""

    async def nothing() -> list[WorkerFlowRunResponse]:
        return []

    polled = scheduled_runs.get_scheduled_flow_runs(db, name, request or GetScheduledFlowRuns())
    return await unless_disconnected(http_request, polled, nothing)
