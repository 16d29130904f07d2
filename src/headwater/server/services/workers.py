"""Workers: each heartbeat says a worker is alive and polling its pool; a pool with a live worker is READY."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.schemas._base import now_utc
from headwater.schemas.work_pools import Worker, WorkerHeartbeat, WorkerStatus
from headwater.server.services.work_pools import is_online, pool_row
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import workers


async def worker_heartbeat(db: Database, work_pool_name: str, heartbeat: WorkerHeartbeat) -> None:
    """Note that a worker polling a pool is alive (the worker is registered on its first heartbeat).

    Raises:
        ObjectNotFound: No pool has this name.
    """
    async with db.write() as conn:
        pool_id = (await pool_row(conn, work_pool_name))["id"]
        await record_heartbeat(conn, pool_id, heartbeat.name, heartbeat.heartbeat_interval_seconds)


async def record_heartbeat(conn: AsyncConnection, pool_id: UUID, name: str, interval: float | None) -> None:
    """Upsert a worker's heartbeat in the caller's write transaction (an interval of None keeps the last)."""
    now = now_utc()
    row = {
        "id": uuid4(),
        "work_pool_id": pool_id,
        "name": name,
        "last_heartbeat_time": now,
        "heartbeat_interval_seconds": interval,
        "created": now,
        "updated": now,
    }
    inserted = await conn.execute(insert_ignore(conn.dialect.name, workers), row)
    if inserted.rowcount == 1:
        return
    values: dict[str, datetime | float] = {"last_heartbeat_time": now, "updated": now}
    if interval is not None:
        values["heartbeat_interval_seconds"] = interval
    await conn.execute(
        sa.update(workers).where(workers.c.work_pool_id == pool_id, workers.c.name == name).values(**values)
    )


async def read_workers(db: Database, work_pool_name: str) -> list[Worker]:
    """The workers that have polled a pool, most recently heard from first, each ONLINE or OFFLINE.

    Raises:
        ObjectNotFound: No pool has this name.
    """
    async with db.read() as conn:
        pool_id = (await pool_row(conn, work_pool_name))["id"]
        query = (
            sa.select(workers)
            .where(workers.c.work_pool_id == pool_id)
            .order_by(workers.c.last_heartbeat_time.desc(), workers.c.name)
        )
        rows = (await conn.execute(query)).mappings().all()
    now = now_utc()
    return [
        Worker.model_validate(
            {
                **row,
                "status": WorkerStatus.ONLINE
                if is_online(row["last_heartbeat_time"], row["heartbeat_interval_seconds"], now)
                else WorkerStatus.OFFLINE,
            }
        )
        for row in rows
    ]
