"""Work pools and their queues: create, read, list, update and delete.

A pool is created with its queue `default`. Deployments name a pool and a queue; both are created on
demand when a deployment is applied (a `process` pool, and a queue after the pool's others in priority).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.work_pools import (
    DEFAULT_QUEUE,
    WorkPool,
    WorkPoolCreate,
    WorkPoolStatus,
    WorkPoolUpdate,
    WorkQueue,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import deployments, work_pools, work_queues, workers

DEFAULT_HEARTBEAT_SECONDS = 30.0
"""A worker's heartbeat interval when it gave none."""
MISSED_HEARTBEATS = 3
"""A worker not heard from for this many intervals is offline; a pool without online workers is not ready."""


def is_online(last_heartbeat: datetime | None, interval: float | None, now: datetime) -> bool:
    """Whether a worker with this last heartbeat counts as alive at `now`."""
    if last_heartbeat is None:
        return False
    return now - last_heartbeat <= timedelta(seconds=MISSED_HEARTBEATS * (interval or DEFAULT_HEARTBEAT_SECONDS))


# -- pools --------------------------------------------------------------------------------------------------


async def create_work_pool(db: Database, create: WorkPoolCreate) -> WorkPool:
    """Create a work pool with its `default` queue.

    Raises:
        InvalidInput: A pool with this name exists.
    """
    async with db.write() as conn:
        if await insert_work_pool(conn, create) is None:
            raise InvalidInput(
                f"A work pool named {create.name!r} exists already: update it instead, or choose another name."
            )
        return await _pool_schema(conn, await pool_row(conn, create.name))


async def insert_work_pool(conn: AsyncConnection, create: WorkPoolCreate) -> UUID | None:
    """Insert a pool and its default queue in the caller's transaction; None when the name is taken."""
    now = now_utc()
    pool_id, queue_id = uuid4(), uuid4()
    values = {"id": pool_id, "default_queue_id": queue_id, "created": now, "updated": now, **create.model_dump()}
    # Ignoring a clash rather than checking first: another writer may create the same pool meanwhile.
    inserted = await conn.execute(insert_ignore(conn.dialect.name, work_pools), values)
    if inserted.rowcount != 1:
        return None
    await conn.execute(
        sa.insert(work_queues),
        [
            {
                "id": queue_id,
                "work_pool_id": pool_id,
                "name": DEFAULT_QUEUE,
                "description": "The pool's default queue.",
                "priority": 1,
                "concurrency_limit": None,
                "paused": False,
                "created": now,
                "updated": now,
            }
        ],
    )
    return pool_id


async def read_work_pool(db: Database, name: str) -> WorkPool:
    """One work pool, with its status.

    Raises:
        ObjectNotFound: No pool has this name.
    """
    async with db.read() as conn:
        return await _pool_schema(conn, await pool_row(conn, name))


async def read_work_pools(db: Database) -> list[WorkPool]:
    """Every work pool, by name."""
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(work_pools).order_by(work_pools.c.name))).mappings().all()
        statuses = await _statuses(conn, rows)
    return [_to_pool(row, statuses[row["id"]]) for row in rows]


async def update_work_pool(db: Database, name: str, update: WorkPoolUpdate) -> WorkPool:
    """Change the fields given in `update` (a `concurrency_limit` given as None removes the limit).

    Raises:
        ObjectNotFound: No pool has this name.
    """
    async with db.write() as conn:
        row = await pool_row(conn, name)
        values = _given(update, nullable={"description", "concurrency_limit"})
        if values:
            await conn.execute(sa.update(work_pools).where(work_pools.c.id == row["id"]).values(**values))
        return await _pool_schema(conn, await pool_row(conn, name))


async def delete_work_pool(db: Database, name: str) -> None:
    """Delete a work pool, its queues and its workers. Deployments on it stay, without a queue; runs
    already created keep their (now unknown) queue and are handed to no worker.

    Raises:
        ObjectNotFound: No pool has this name.
    """
    async with db.write() as conn:
        pool_id = (await pool_row(conn, name))["id"]
        queue_ids = sa.select(work_queues.c.id).where(work_queues.c.work_pool_id == pool_id)
        # Done explicitly rather than by ON DELETE rules, so it does not depend on SQLite's foreign-key pragma.
        await conn.execute(
            sa.update(deployments).where(deployments.c.work_queue_id.in_(queue_ids)).values(work_queue_id=None)
        )
        await conn.execute(sa.delete(workers).where(workers.c.work_pool_id == pool_id))
        await conn.execute(sa.delete(work_queues).where(work_queues.c.work_pool_id == pool_id))
        await conn.execute(sa.delete(work_pools).where(work_pools.c.id == pool_id))


async def pool_row(conn: AsyncConnection, name: str) -> RowMapping:
    """The row of the pool named `name`.

    Raises:
        ObjectNotFound: No pool has this name (the message lists the pools there are).
    """
    row = (await conn.execute(sa.select(work_pools).where(work_pools.c.name == name))).mappings().first()
    if row is not None:
        return row
    names = list((await conn.execute(sa.select(work_pools.c.name).order_by(work_pools.c.name).limit(20))).scalars())
    known = f"Work pools: {', '.join(names)}." if names else "There are no work pools yet."
    raise ObjectNotFound(f"No work pool named {name!r}. {known}")


async def _pool_schema(conn: AsyncConnection, row: RowMapping) -> WorkPool:
    return _to_pool(row, (await _statuses(conn, [row]))[row["id"]])


async def _statuses(conn: AsyncConnection, rows: list[RowMapping] | Any) -> dict[UUID, WorkPoolStatus]:
    """PAUSED for a paused pool; READY when a worker was heard from recently; NOT_READY otherwise."""
    ids = [row["id"] for row in rows]
    query = sa.select(
        workers.c.work_pool_id, workers.c.last_heartbeat_time, workers.c.heartbeat_interval_seconds
    ).where(workers.c.work_pool_id.in_(ids))
    now = now_utc()
    ready = {pool_id for pool_id, last, interval in await conn.execute(query) if is_online(last, interval, now)}
    return {
        row["id"]: WorkPoolStatus.PAUSED
        if row["paused"]
        else (WorkPoolStatus.READY if row["id"] in ready else WorkPoolStatus.NOT_READY)
        for row in rows
    }


def _to_pool(row: RowMapping, status: WorkPoolStatus) -> WorkPool:
    return WorkPool.model_validate({**row, "status": status})


def _given(update: WorkPoolUpdate | WorkQueueUpdate, nullable: set[str]) -> dict[str, Any]:
    """The fields the caller gave; None only counts for fields that may be cleared."""
    values = {
        field: getattr(update, field)
        for field in update.model_fields_set
        if getattr(update, field) is not None or field in nullable
    }
    if values:
        values["updated"] = now_utc()
    return values


# -- queues -------------------------------------------------------------------------------------------------


async def create_work_queue(db: Database, work_pool_name: str, create: WorkQueueCreate) -> WorkQueue:
    """Create a queue in a pool.

    Raises:
        ObjectNotFound: No pool has this name.
        InvalidInput: The pool has a queue with this name.
    """
    async with db.write() as conn:
        pool = await pool_row(conn, work_pool_name)
        now = now_utc()
        values = {"id": uuid4(), "work_pool_id": pool["id"], "created": now, "updated": now, **create.model_dump()}
        inserted = await conn.execute(insert_ignore(conn.dialect.name, work_queues), values)
        if inserted.rowcount != 1:
            raise InvalidInput(
                f"Work pool {work_pool_name!r} has a queue named {create.name!r} already: update it instead."
            )
        return await _queue_schema(conn, work_pool_name, create.name)


async def ensure_work_queue(conn: AsyncConnection, pool_id: UUID, name: str) -> UUID:
    """The id of the pool's queue `name`, created (after the pool's other queues in priority) if missing."""
    queue_id = await _queue_id(conn, pool_id, name)
    if queue_id is not None:
        return queue_id
    lowest = sa.select(sa.func.max(work_queues.c.priority)).where(work_queues.c.work_pool_id == pool_id)
    priority = ((await conn.execute(lowest)).scalar_one_or_none() or 0) + 1
    now = now_utc()
    row = {
        "id": uuid4(),
        "work_pool_id": pool_id,
        "name": name,
        "description": None,
        "priority": priority,
        "concurrency_limit": None,
        "paused": False,
        "created": now,
        "updated": now,
    }
    await conn.execute(insert_ignore(conn.dialect.name, work_queues), [row])
    queue_id = await _queue_id(conn, pool_id, name)
    assert queue_id is not None  # inserted just above, by us or by another writer
    return queue_id


async def _queue_id(conn: AsyncConnection, pool_id: UUID, name: str) -> UUID | None:
    query = sa.select(work_queues.c.id).where(work_queues.c.work_pool_id == pool_id, work_queues.c.name == name)
    queue_id: UUID | None = (await conn.execute(query)).scalar_one_or_none()
    return queue_id


async def read_work_queues(db: Database, work_pool_name: str) -> list[WorkQueue]:
    """A pool's queues, highest priority (lowest number) first.

    Raises:
        ObjectNotFound: No pool has this name.
    """
    async with db.read() as conn:
        pool = await pool_row(conn, work_pool_name)
        query = (
            _select_queues()
            .where(work_queues.c.work_pool_id == pool["id"])
            .order_by(work_queues.c.priority, work_queues.c.name)
        )
        return [WorkQueue.model_validate(row) for row in (await conn.execute(query)).mappings()]


async def read_work_queue(db: Database, work_pool_name: str, name: str) -> WorkQueue:
    """One queue of a pool.

    Raises:
        ObjectNotFound: No such pool, or it has no such queue.
    """
    async with db.read() as conn:
        return await _queue_schema(conn, work_pool_name, name)


async def update_work_queue(db: Database, work_pool_name: str, name: str, update: WorkQueueUpdate) -> WorkQueue:
    """Change the fields given in `update` (a `concurrency_limit` given as None removes the limit).

    Raises:
        ObjectNotFound: No such pool, or it has no such queue.
    """
    async with db.write() as conn:
        queue = await _queue_schema(conn, work_pool_name, name)
        values = _given(update, nullable={"description", "concurrency_limit"})
        if values:
            await conn.execute(sa.update(work_queues).where(work_queues.c.id == queue.id).values(**values))
        return await _queue_schema(conn, work_pool_name, name)


def _select_queues() -> sa.Select[Any]:
    return sa.select(work_queues, work_pools.c.name.label("work_pool_name")).join(
        work_pools, work_pools.c.id == work_queues.c.work_pool_id
    )


async def _queue_schema(conn: AsyncConnection, work_pool_name: str, name: str) -> WorkQueue:
    pool = await pool_row(conn, work_pool_name)
    query = _select_queues().where(work_queues.c.work_pool_id == pool["id"], work_queues.c.name == name)
    row = (await conn.execute(query)).mappings().first()
    if row is not None:
        return WorkQueue.model_validate(row)
    names = sa.select(work_queues.c.name).where(work_queues.c.work_pool_id == pool["id"])
    known = ", ".join((await conn.execute(names.order_by(work_queues.c.priority, work_queues.c.name))).scalars())
    raise ObjectNotFound(f"No work queue named {name!r} in work pool {work_pool_name!r}. Its queues: {known}.")
