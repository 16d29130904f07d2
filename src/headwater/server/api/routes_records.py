"""Log lines, and the batched records the SDK writes behind its hot path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from headwater.schemas.actions import LogCreate, RecordBatch
from headwater.schemas.filters import LogFilter
from headwater.schemas.objects import Log
from headwater.server.api.dependencies import get_db
from headwater.server.services import logs, records
from headwater.server.storage.database import Database

router = APIRouter()
Db = Annotated[Database, Depends(get_db)]


@router.post("/logs/", status_code=status.HTTP_201_CREATED, tags=["logs"])
async def create_logs(log_lines: list[LogCreate], db: Db) -> None:
    """Record log lines (ids chosen by the client: sending them twice records them once)."""
    await logs.create_logs(db, log_lines)


@router.post("/logs/filter", tags=["logs"])
async def filter_logs(db: Db, logs_filter: LogFilter | None = None) -> list[Log]:
    """Log lines matching a filter, in the order they were emitted."""
    return await logs.read_logs(db, logs_filter or LogFilter())


@router.post("/records/", status_code=status.HTTP_204_NO_CONTENT, tags=["records"])
async def write_records(batch: RecordBatch, db: Db) -> None:
    """Write a batch of client-orchestrated records (runs, states, logs, heartbeats) in one transaction.

    Idempotent: every item carries a client-chosen id.
    """
    await records.record_batch(db, batch)
