"""Log lines: written in bulk, read in the order they were emitted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.schemas._base import now_utc
from headwater.schemas.actions import LogCreate
from headwater.schemas.filters import LogFilter
from headwater.schemas.objects import Log
from headwater.server.services._runs import log_from_row
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import logs


async def create_logs(db: Database, log_lines: Sequence[LogCreate]) -> None:
    """Record log lines; lines whose id is already stored are skipped, so a retried write is harmless."""
    if not log_lines:
        return
    async with db.write() as conn:
        await insert_logs(conn, log_lines, now_utc())


async def insert_logs(conn: AsyncConnection, log_lines: Sequence[LogCreate], now: datetime) -> None:
    """`create_logs` inside the caller's write transaction (one statement, rows in the order given)."""
    if log_lines:
        await conn.execute(insert_ignore(conn.dialect.name, logs), [_row(line, now) for line in log_lines])


def _row(line: LogCreate, now: datetime) -> dict[str, Any]:
    return {
        "id": line.id,
        "name": line.name,
        "level": line.level,
        "message": line.message,
        "timestamp": line.timestamp,
        "flow_run_id": line.flow_run_id,
        "task_run_id": line.task_run_id,
        "created": now,
        "updated": now,
    }


async def read_logs(db: Database, log_filter: LogFilter) -> list[Log]:
    """The log lines matching a filter, by timestamp and then in the order they were written, one page
    (`limit`, `offset`) of them."""
    f = log_filter
    conditions: list[sa.ColumnElement[bool]] = []
    if f.flow_run_id is not None:
        conditions.append(logs.c.flow_run_id.in_(f.flow_run_id))
    if f.task_run_id is not None:
        conditions.append(logs.c.task_run_id.in_(f.task_run_id))
    if f.level_ge is not None:
        conditions.append(logs.c.level >= f.level_ge)
    query = sa.select(logs).where(*conditions).order_by(logs.c.timestamp, logs.c.seq).limit(f.limit).offset(f.offset)
    async with db.read() as conn:
        return [log_from_row(row) for row in await conn.execute(query)]
